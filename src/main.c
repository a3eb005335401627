/* kobsd: parse the command line, set up the collectors, serve HTTP, and wait for signals. */
#include <errno.h>
#include <pthread.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "caps.h"
#include "groups_config.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "options.h"
#include "privileges.h"
#include "scrape.h"
#include "selfcheck.h"

/* What --version lists as built in, so that users (and the tests) can tell. */
#ifdef HAVE_SYSTEMD
#define HAVE_SYSTEMD_FLAG "+systemd"
#else
#define HAVE_SYSTEMD_FLAG "-systemd"
#endif
#ifdef HAVE_BPF
#define HAVE_BPF_FLAG "+bpf"
#else
#define HAVE_BPF_FLAG "-bpf"
#endif
#ifdef HAVE_SECCOMP
#define HAVE_SECCOMP_FLAG "+seccomp"
#else
#define HAVE_SECCOMP_FLAG "-seccomp"
#endif
#include "service.h"

/* How often STATUS= is refreshed when no watchdog asks for more. */
#define STATUS_INTERVAL_USEC (5 * 1000000ULL)

/* The daemon's top-level context: everything that lives as long as the process. */
struct daemon {
	struct options options;
	struct scrape *scrape;
	struct http *http;
	int listen_fds[OPTIONS_MAX_LISTEN];
	size_t nlisten;         /* sockets still ours to close */
	size_t nlisten_served;  /* sockets handed to the server */
	struct selfcheck probe; /* how the watchdog reaches our own HTTP server */
	uint64_t watchdog_usec; /* 0: no watchdog */
	bool watchdog_starved;  /* last tick found the daemon unhealthy */
	char status[256];       /* the STATUS= last sent */
	bool started_as_root;   /* and so switches to run_as once set up */
	struct run_as run_as;
	struct privileges privileges; /* what it serves with */
	char privileges_text[512];    /* the same in words, for the log and the landing page */
};

static int open_listeners(struct daemon *d)
{
	char err[512];
	if (d->options.systemd_socket) {
		if (d->options.listen_given)
			log_warn("--web.listen-address is ignored: the sockets come from systemd "
			         "(--web.systemd-socket)");
		int n = service_listen_fds(d->listen_fds, OPTIONS_MAX_LISTEN, err, sizeof(err));
		if (n < 0) {
			log_error("%s", err);
			return EXIT_FAILURE;
		}
		d->nlisten = (size_t)n;
		return 0;
	}
	struct listen_addr addrs[OPTIONS_MAX_LISTEN];
	/* Parse every address before binding any, so a typo is a usage error, not a half start. */
	for (size_t i = 0; i < d->options.nlisten; i++) {
		if (listen_parse(d->options.listen[i], &addrs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "kobsd: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (listen_check_repeats(addrs, d->options.listen, d->options.nlisten, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "kobsd: %s\n", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < d->options.nlisten; i++) {
		int fd = listen_open(&addrs[i], d->listen_fds, d->nlisten, err, sizeof(err));
		if (fd < 0) {
			log_error("%s", err);
			return EXIT_FAILURE;
		}
		d->listen_fds[d->nlisten++] = fd;
	}
	return 0;
}

static void close_listeners(struct daemon *d)
{
	for (size_t i = 0; i < d->nlisten; i++)
		close(d->listen_fds[i]);
	d->nlisten = 0;
}

static void warn_ignored(const struct web_config *web, const char *path)
{
	if (web->ignored[0])
		log_warn("%s: accepted but without effect in kobsd: %s", path, web->ignored);
}

/* Both files are read and checked before either is applied, so a reload is all or nothing.
 * Without --config.file the process groups are the built-in ones. */
static int check_configs(const struct options *o, struct web_config *web,
                         struct groups_config **groups, char *err, size_t errlen)
{
	memset(web, 0, sizeof(*web));
	if (o->config_file) {
		if (groups_config_load(o->config_file, groups, err, errlen) < 0)
			return -1;
	} else {
		*groups = groups_config_default();
	}
	if (o->web_config_file && web_config_load(o->web_config_file, web, err, errlen) < 0) {
		groups_config_free(*groups);
		*groups = NULL;
		return -1;
	}
	return 0;
}

/* SIGHUP: re-read --config.file and --web.config.file. When either is bad, the running
 * configuration stays in force. */
static void reload(struct daemon *d)
{
	service_reloading();
	if (!d->options.config_file && !d->options.web_config_file) {
		log_info("SIGHUP: no --config.file or --web.config.file to reload");
		return;
	}
	char err[512];
	struct web_config web;
	struct groups_config *groups;
	if (check_configs(&d->options, &web, &groups, err, sizeof(err)) < 0) {
		/* (A file it may not read says which uid could not: regular_file.c.) */
		log_error("reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (d->options.web_config_file) {
		warn_ignored(&web, d->options.web_config_file);
		if (http_reload(d->http, &web, err, sizeof(err)) < 0) {
			log_error("reload failed, keeping the running web configuration: %s", err);
			groups_config_free(groups);
			return;
		}
	}
	if (scrape_reconfigure(d->scrape, groups))
		log_info("reloaded the configuration; the process groups start again from the new "
		         "file");
	else
		log_info("reloaded the configuration; the process groups are unchanged");
}

static void update_status(struct daemon *d, bool force)
{
	struct scrape_summary sum;
	char status[sizeof(d->status)];
	scrape_summary(d->scrape, &sum);
	int n = snprintf(status, sizeof(status), "%zu collector%s enabled", sum.collectors_enabled,
	                 sum.collectors_enabled == 1 ? "" : "s");
	if (sum.collectors_failed && n > 0 && (size_t)n < sizeof(status))
		n += snprintf(status + n, sizeof(status) - (size_t)n, ", %zu failing",
		              sum.collectors_failed);
	if (n > 0 && (size_t)n < sizeof(status)) {
		if (sum.last_age < 0)
			snprintf(status + n, sizeof(status) - (size_t)n, "; not scraped yet");
		else
			snprintf(status + n, sizeof(status) - (size_t)n,
			         "; last scrape served %zu series in %.1f ms, %.0f s ago",
			         sum.series, sum.last_duration * 1000, sum.last_age);
	}
	if (force || strcmp(status, d->status) != 0) {
		memcpy(d->status, status, sizeof(status));
		service_status(status);
	}
}

/* The watchdog is fed only while the daemon does its job: no collection has hung (a /proc read
 * stuck in the kernel, say) and the HTTP server answers a request of our own. */
static bool healthy(struct daemon *d, char *why, size_t len)
{
	struct scrape_summary sum;
	scrape_summary(d->scrape, &sum);
	double hang_after = (double)d->watchdog_usec / 2e6;
	if (sum.busy_for > hang_after) {
		snprintf(why, len, "a collection has been running for %.1f s", sum.busy_for);
		return false;
	}
	int timeout_ms = (int)(d->watchdog_usec / 4000);
	if (timeout_ms > 2000)
		timeout_ms = 2000;
	if (!selfcheck_http(&d->probe, timeout_ms)) {
		snprintf(why, len, "the HTTP server did not react to a request within %d ms",
		         timeout_ms);
		return false;
	}
	return true;
}

static void feed_watchdog(struct daemon *d)
{
	char why[128];
	if (healthy(d, why, sizeof(why))) {
		if (d->watchdog_starved)
			log_info("healthy again; feeding the watchdog");
		d->watchdog_starved = false;
		service_watchdog();
		return;
	}
	if (!d->watchdog_starved)
		log_error("not feeding the watchdog: %s", why);
	d->watchdog_starved = true;
}

static uint64_t monotonic_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Wait for signals; between them, keep STATUS= current and feed the watchdog at half its
 * interval, as sd_watchdog_enabled(3) advises. */
static void serve_until_stopped(struct daemon *d, const sigset_t *signals)
{
	uint64_t tick = d->watchdog_usec ? d->watchdog_usec / 2 : STATUS_INTERVAL_USEC;
	if (tick > STATUS_INTERVAL_USEC)
		tick = STATUS_INTERVAL_USEC;
	uint64_t next = monotonic_usec() + tick;
	for (;;) {
		uint64_t now = monotonic_usec();
		if (now >= next) {
			if (d->watchdog_usec)
				feed_watchdog(d);
			update_status(d, false);
			next = now + tick;
			continue;
		}
		uint64_t wait = next - now;
		struct timespec timeout = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000};
		int sig = sigtimedwait(signals, NULL, &timeout);
		if (sig < 0)
			continue; /* EAGAIN: the tick is due; EINTR: try again */
		if (sig == SIGHUP) {
			reload(d);
			service_ready(d->status);
			continue;
		}
		service_stopping();
		log_info("received %s, stopping after the requests under way",
		         sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

/* Block the signals we handle in every thread; the main thread takes them with sigtimedwait, so no
 * handler ever runs in the middle of a scrape. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The privileged part of the start is over once the sockets are bound and the collectors set
 * up (the bpf collector has attached its programs): give up what serving does not need, before
 * any thread starts (each thread has its own credentials and filter). */
static int drop_privileges(struct daemon *d)
{
	struct privileges_request req = {
	    .started_as_root = d->started_as_root,
	    .user = &d->run_as,
	    .read_other_users = d->options.read_other_users,
	    .seccomp = d->options.seccomp,
	};
	char err[512];
	if (privileges_drop(&req, &d->privileges, err, sizeof(err)) < 0) {
		log_error("refusing to serve with the privileges of the start: %s", err);
		return -1;
	}
	struct privileges *p = &d->privileges;
	if (!d->started_as_root && d->options.run_as)
		log_warn("--run-as=%s is ignored: kobsd was not started as root, and serves as %s",
		         d->options.run_as, p->user);
	if (p->missing) {
		char names[256];
		caps_names(p->missing, names, sizeof(names));
		log_warn("--processes.read-other-users: kobsd was started without %s; other users' "
		         "figures that need it are reported as unavailable (docs/deployment.md)",
		         names);
	}
	if (p->bounding_note[0])
		log_info("%s", p->bounding_note);
	if (d->options.seccomp && !p->seccomp)
		log_warn("no system call filter: %s", p->seccomp_why);
	privileges_describe(p, d->privileges_text, sizeof(d->privileges_text));
	log_info("%s", d->privileges_text);
	return 0;
}

static int run(struct daemon *d, struct web_config *web, struct groups_config *groups)
{
	sigset_t signals;
	block_signals(&signals);

	int rc = open_listeners(d);
	if (rc != 0) {
		close_listeners(d);
		web_config_free(web);
		groups_config_free(groups);
		return rc;
	}
	d->scrape = scrape_new(&d->options, groups);
	if (drop_privileges(d) < 0) {
		scrape_free(d->scrape);
		close_listeners(d);
		web_config_free(web);
		return EXIT_FAILURE;
	}
	scrape_start(d->scrape);

	struct http_config hc = {
	    .telemetry_path = d->options.telemetry_path,
	    .max_connections = d->options.max_connections,
	    .max_connections_per_ip = d->options.max_connections_per_ip,
	    .timeout_seconds = d->options.timeout_seconds,
	    .privileges = d->privileges_text,
	};
	char where[OPTIONS_MAX_LISTEN][80];
	for (size_t i = 0; i < d->nlisten; i++)
		listen_describe(d->listen_fds[i], where[i], sizeof(where[i]));
	selfcheck_prepare(&d->probe, d->listen_fds[0]);
	char err[512];
	d->http = http_start(d->listen_fds, d->nlisten, &hc, web, d->scrape, err, sizeof(err));
	d->nlisten_served = d->nlisten;
	d->nlisten = 0; /* the server owns the sockets now */
	if (!d->http) {
		log_error("%s", err);
		scrape_free(d->scrape);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < d->nlisten_served; i++)
		log_info("listening on %s, metrics at %s", where[i], d->options.telemetry_path);
	http_set_ready(d->http, true);
	d->watchdog_usec = service_watchdog_usec();
	update_status(d, false);
	service_ready(d->status);
	log_event(LOG_LEVEL_INFO, LOG_ID_STARTED, NULL, 0, "kobsd %s ready", PACKAGE_VERSION);

	serve_until_stopped(d, &signals);

	http_set_ready(d->http, false);
	http_stop(d->http);
	scrape_free(d->scrape);
	log_info("stopped");
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	char err[512];

	/* One malloc arena for all threads: the HTTP server's threads allocate little, and an
	 * arena each would keep its own free pages resident (about 0.3 MiB each). */
	mallopt(M_ARENA_MAX, 1);

	if (options_parse(argc, argv, &d.options, err, sizeof(err)) < 0) {
		fprintf(stderr, "kobsd: %s\n", err);
		fprintf(stderr, "Try 'kobsd --help' for the flags.\n");
		return EXIT_USAGE;
	}
	if (d.options.show_help) {
		options_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (d.options.show_version) {
		printf("kobsd %s (revision %s)\n", PACKAGE_VERSION, KOBS_REVISION);
		printf("features: %s %s %s\n", HAVE_SYSTEMD_FLAG, HAVE_BPF_FLAG, HAVE_SECCOMP_FLAG);
		return EXIT_SUCCESS;
	}
	log_set_level(d.options.log_level);
	log_set_format(d.options.log_format);
	log_use_journal_if_connected();

	struct web_config web;
	struct groups_config *groups;
	if (check_configs(&d.options, &web, &groups, err, sizeof(err)) < 0) {
		fprintf(stderr, "kobsd: bad configuration: %s\n", err);
		return EXIT_CONFIG;
	}
	if (d.options.web_config_file)
		warn_ignored(&web, d.options.web_config_file);
	if (d.options.check_config) {
		web_config_free(&web);
		groups_config_free(groups);
		printf("configuration is valid\n");
		return EXIT_SUCCESS;
	}
	/* The user is looked up before anything privileged is done, so that a wrong --run-as is a
	 * usage error at once. */
	d.started_as_root = geteuid() == 0;
	if (d.started_as_root &&
	    run_as_resolve(d.options.run_as, &d.run_as, err, sizeof(err)) < 0) {
		fprintf(stderr, "kobsd: %s\n", err);
		web_config_free(&web);
		groups_config_free(groups);
		return EXIT_USAGE;
	}
	return run(&d, &web, groups);
}
