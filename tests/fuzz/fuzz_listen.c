/* listen_parse (--web.listen-address) on any text, passed as a NUL-terminated copy of the input.
 * Beyond "no crash, no read past the NUL":
 * - on -1 the message names the address ("bad listen address '...'"); on 0 the port is a
 *   number from 0 to 65535 written without leading zeros, and the host is what preceded the
 *   port's ':' (without the brackets of "[v6]:port");
 * - written back as "host:port", or "[host]:port" when the host needs the brackets, the address
 *   parses to the same host and port;
 * - listen_check_repeats finds the address and its written-back form the same, and ":port"
 *   overlapping it, unless the port is 0; its message names both as given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listen.h"

#include "fuzz_common.h"

static void check_port(const char *port)
{
	size_t n = strlen(port);
	FUZZ_CHECK(n >= 1 && n <= 5 && strspn(port, "0123456789") == n, "port \"%s\"", port);
	FUZZ_CHECK(port[0] != '0' || n == 1, "port \"%s\" has leading zeros", port);
	FUZZ_CHECK(strtoul(port, NULL, 10) <= 65535, "port %s", port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_strndup(data, size);
	struct listen_addr a, again;
	char err[512];
	memset(&a, 0xa5, sizeof(a));
	int rc = listen_parse(spec, &a, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (rc == -1) {
		FUZZ_CHECK(strncmp(err, "bad listen address '", 20) == 0, "message \"%s\"", err);
		free(spec);
		return 0;
	}

	FUZZ_CHECK(memchr(a.host, '\0', sizeof(a.host)), "host not terminated");
	FUZZ_CHECK(memchr(a.port, '\0', sizeof(a.port)), "port not terminated");
	check_port(a.port);
	size_t host_len = strlen(a.host);
	bool bracketed = spec[0] == '[';
	FUZZ_CHECK(strncmp(spec + bracketed, a.host, host_len) == 0 &&
	               spec[bracketed + host_len] == (bracketed ? ']' : ':'),
	           "host \"%s\" is not the start of \"%s\"", a.host, spec);
	if (bracketed)
		FUZZ_CHECK(host_len > 0, "empty bracketed host");
	else
		FUZZ_CHECK(!strchr(a.host, ':'), "host \"%s\" with ':' outside brackets", a.host);

	char written[sizeof(a.host) + sizeof(a.port) + 4];
	bool brackets = strchr(a.host, ':') || a.host[0] == '[';
	snprintf(written, sizeof(written), brackets ? "[%s]:%s" : "%s:%s", a.host, a.port);
	FUZZ_CHECK(listen_parse(written, &again, err, sizeof(err)) == 0,
	           "\"%s\" does not parse: %s", written, err);
	FUZZ_CHECK(strcmp(again.host, a.host) == 0 && strcmp(again.port, a.port) == 0,
	           "\"%s\" parses to host \"%s\" port \"%s\", not \"%s\" \"%s\"", written,
	           again.host, again.port, a.host, a.port);

	bool port_zero = strcmp(a.port, "0") == 0;
	struct listen_addr pair[2] = {a, again};
	const char *specs[2] = {spec, written};
	char message[1024]; /* room for two hosts of 255 bytes */
	rc = listen_check_repeats(pair, specs, 2, message, sizeof(message));
	FUZZ_CHECK(rc == (port_zero ? 0 : -1), "\"%s\" and \"%s\": %d", spec, written, rc);
	if (rc < 0)
		FUZZ_CHECK(strstr(message, spec) && strstr(message, written), "message \"%s\"",
		           message);
	char every[sizeof(a.port) + 1];
	snprintf(every, sizeof(every), ":%s", a.port);
	FUZZ_CHECK(listen_parse(every, &pair[1], err, sizeof(err)) == 0, "\"%s\": %s", every, err);
	specs[1] = every;
	rc = listen_check_repeats(pair, specs, 2, err, sizeof(err));
	FUZZ_CHECK(rc == (port_zero ? 0 : -1), "\"%s\" and \"%s\": %d", spec, every, rc);
	free(spec);
	return 0;
}
