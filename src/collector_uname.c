/* The "uname" collector: what uname(2) says of the kernel and the machine, as one info metric
 * with node_exporter's labels (node_uname_info). The boot time is the system collector's
 * kobs_boot_time_seconds. uname(2) answers for the daemon's UTS namespace: in a container,
 * nodename is the container's unless it shares the host's (hostUTS). */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static int uname_collect(void *state, const struct collector_env *env, struct expo *out)
{
	(void)state;
	(void)env;
	struct utsname u;
	if (uname(&u) < 0)
		return -1;
	struct label labels[] = {
	    {"sysname", u.sysname}, {"release", u.release},   {"version", u.version},
	    {"machine", u.machine}, {"nodename", u.nodename}, {"domainname", u.domainname},
	};
	expo_family(out, "kobs_uname", METRIC_INFO, NULL,
	            "The kernel and machine, as uname(2) tells them (the value is always 1).");
	expo_sample(out, labels, sizeof(labels) / sizeof(labels[0]), 1);
	return 0;
}

static int uname_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	(void)env;
	struct utsname u;
	if (uname(&u) < 0) {
		char msg[128];
		snprintf(why, why_len, "uname: %s", strerror_r(errno, msg, sizeof(msg)));
		return -1;
	}
	*state = NULL;
	return 0;
}

const struct collector_ops collector_uname = {
    .name = "uname",
    .description = "Kernel release, version and machine from uname(2)",
    .default_enabled = true,
    .init = uname_init,
    .collect = uname_collect,
};
