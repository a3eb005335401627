#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors.h"
#include "config.h"
#include "name_filter.h"

#define DEFAULT_LISTEN     ":9477"
#define TEXTFILE_COLLECTOR "textfile"

enum flag_kind {
	FLAG_STRING, /* takes a value */
	FLAG_BOOL,   /* no value; --no-NAME negates */
};

struct flag {
	const char *name;
	enum flag_kind kind;
	const char *value_name;
	const char *help;
};

static const struct flag flags[] = {
    {"web.listen-address", FLAG_STRING, "ADDR",
     "Address to listen on: host:port, [v6]:port or :port. Repeatable. Default " DEFAULT_LISTEN
     "."},
    {"web.config.file", FLAG_STRING, "FILE",
     "TLS and basic authentication (exporter-toolkit's web config YAML)."},
    {"web.systemd-socket", FLAG_BOOL, NULL,
     "Take the listening sockets from systemd socket activation (kobsd.socket) instead of "
     "--web.listen-address."},
    {"web.telemetry-path", FLAG_STRING, "PATH",
     "Path under which to serve metrics. Default /metrics."},
    {"web.disable-exporter-metrics", FLAG_BOOL, NULL,
     "Leave out the metrics about the daemon itself (process_*, kobs_scrape_requests_total, "
     "kobs_scrape_collections_total); the collectors' success and kobs_build_info stay."},
    {"web.max-connections", FLAG_STRING, "N",
     "Most HTTP connections held at once; when full, the one that has waited longest for its "
     "request is closed. Default: from the open-files limit, at most 4096."},
    {"web.max-connections-per-ip", FLAG_STRING, "N",
     "Most HTTP connections from one address. Default 64."},
    {"web.max-event-streams", FLAG_STRING, "N",
     "Most /api/events streams open at once (0: none). Default 16."},
    {"web.timeout", FLAG_STRING, "SECONDS",
     "A connection is closed when idle this long, or when it takes longer to send a whole "
     "request. Default 10."},
    {"config.file", FLAG_STRING, "FILE", "Configuration file (YAML)."},
    {"collector.disable-defaults", FLAG_BOOL, NULL,
     "Turn every collector off, except those turned on by --collector.NAME (or, for "
     "textfile, by its directory)."},
    {"collector.textfile.directory", FLAG_STRING, "DIR",
     "Serve the metrics of DIR/*.prom files (Prometheus text format) and turn the textfile "
     "collector on. Default none."},
    {"check-config", FLAG_BOOL, NULL,
     "Validate the configuration file, print what is wrong, and exit."},
    {"path.procfs", FLAG_STRING, "DIR", "procfs mountpoint. Default /proc."},
    {"path.sysfs", FLAG_STRING, "DIR", "sysfs mountpoint. Default /sys."},
    {"path.rootfs", FLAG_STRING, "DIR",
     "Where the host's root filesystem is mounted (a container mounts it at /host/root): the "
     "filesystem collector serves only mounts below it, named as the host names them. "
     "Default /."},
    {"collector.diskstats.device-include", FLAG_STRING, "REGEX",
     "Serve only the block devices that match (instead of --collector.diskstats.device-exclude)."},
    {"collector.diskstats.device-exclude", FLAG_STRING, "REGEX",
     "Leave out the block devices that match. Default: node_exporter's, partitions, loop and ram "
     "devices: " DEFAULT_DISK_EXCLUDE},
    {"collector.netdev.device-include", FLAG_STRING, "REGEX",
     "Serve only the network interfaces that match (instead of "
     "--collector.netdev.device-exclude)."},
    {"collector.netdev.device-exclude", FLAG_STRING, "REGEX",
     "Leave out the network interfaces that match. Default " DEFAULT_NETDEV_EXCLUDE},
    {"collector.filesystem.mount-points-exclude", FLAG_STRING, "REGEX",
     "Leave out the mount points that match. Default " DEFAULT_MOUNT_POINTS_EXCLUDE},
    {"collector.filesystem.fs-types-exclude", FLAG_STRING, "REGEX",
     "Leave out the filesystem types that match. Default: the pseudo "
     "filesystems, " DEFAULT_FS_TYPES_EXCLUDE},
    {"collector.filesystem.mount-timeout", FLAG_STRING, "DURATION",
     "How long statvfs may take on one mount (e.g. 2s, 500ms) before the mount is marked stale "
     "and skipped until the call returns. Default 2s."},
    {"run-as", FLAG_STRING, "USER",
     "Started as root, serve as this user (a name, a uid, or UID:GID) once the privileged "
     "setup is done. Default kobsd, or nobody when there is no user kobsd."},
    {"processes.read-other-users", FLAG_BOOL, NULL,
     "Keep CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH after the start, so that the processes "
     "collector reads the I/O and open files of other users' processes. Off by default."},
    {"sandbox.seccomp", FLAG_BOOL, NULL,
     "Restrict the daemon to the system calls it uses, once its setup is done. On by default; "
     "--no-sandbox.seccomp turns the filter off."},
    {"log.level", FLAG_STRING, "LEVEL", "debug, info, warn or error. Default info."},
    {"log.format", FLAG_STRING, "FORMAT",
     "logfmt or json: how lines on stderr are written. Default logfmt. (In the journal, "
     "entries always carry their fields natively.)"},
    {"version", FLAG_BOOL, NULL, "Print the version and exit."},
    {"help", FLAG_BOOL, NULL, "Print this help and exit."},
};

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->telemetry_path = "/metrics";
	o->procfs = "/proc";
	o->host.sysfs = "/sys";
	o->host.rootfs = "/";
	o->host.mount_timeout = DEFAULT_MOUNT_TIMEOUT_SECONDS;
	o->log_level = LOG_LEVEL_INFO;
	o->log_format = LOG_FORMAT_LOGFMT;
	o->max_connections = 0; /* from the open-files limit: see http.h */
	o->max_connections_per_ip = 64;
	o->timeout_seconds = 10;
	o->max_event_streams = 16;
	o->seccomp = true;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int toggle_collector(struct options *o, const char *name, bool enabled, char *err,
                            size_t errlen)
{
#ifndef HAVE_BPF
	/* A build without eBPF still knows the name: a shared unit file's --no-collector.bpf is
	 * what it does anyway, and --collector.bpf says why it cannot be had. */
	if (strcmp(name, "bpf") == 0) {
		if (!enabled)
			return 0;
		snprintf(
		    err, errlen,
		    "--collector.bpf: this kobsd was built without the bpf collector (configure "
		    "--enable-bpf, with libbpf-dev, clang and bpftool installed)");
		return -1;
	}
#endif
	if (!collectors_find(name)) {
		char known[256];
		snprintf(err, errlen, "unknown collector '%s' (known: %s)", name,
		         collectors_names(known, sizeof(known)));
		return -1;
	}
	if (o->ntoggles == OPTIONS_MAX_TOGGLES) {
		snprintf(err, errlen, "too many --collector flags");
		return -1;
	}
	o->toggles[o->ntoggles].name = name;
	o->toggles[o->ntoggles].enabled = enabled;
	o->ntoggles++;
	return 0;
}

/* "/host/root/" is "/host/root", and "///" is "/": the collectors join paths to it. */
static const char *without_trailing_slash(char *value)
{
	size_t len = strlen(value);
	while (len > 1 && value[len - 1] == '/')
		value[--len] = '\0';
	return value;
}

static int apply_path(struct options *o, const char *name, const char *value, char *err,
                      size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "--%s must be an absolute directory (got '%s')", name, value);
		return -1;
	}
	/* The value points into argv, which is ours to change. */
	const char *dir = without_trailing_slash((char *)value);
	if (strcmp(name, "path.sysfs") == 0)
		o->host.sysfs = dir;
	else
		o->host.rootfs = dir;
	return 0;
}

/* "2s", "500ms", "1m" or a plain number of seconds, as node_exporter's durations are written. */
static int parse_duration(const char *s, double *seconds)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !(v > 0))
		return -1;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60;
	else if (*end && strcmp(end, "s") != 0)
		return -1;
	if (!(v >= 0.001 && v <= 3600))
		return -1;
	*seconds = v;
	return 0;
}

/* The host collectors' own flags (not --collector.textfile.directory, which is another
 * collector's). */
static bool is_host_setting(const char *name)
{
	return strncmp(name, "collector.diskstats.", 20) == 0 ||
	       strncmp(name, "collector.netdev.", 17) == 0 ||
	       strncmp(name, "collector.filesystem.", 21) == 0;
}

static int apply_host_setting(struct host_options *h, const char *name, const char *value,
                              char *err, size_t errlen)
{
	if (strcmp(name, "collector.filesystem.mount-timeout") == 0) {
		if (parse_duration(value, &h->mount_timeout) < 0) {
			snprintf(
			    err, errlen,
			    "--%s needs a duration from 1ms to 1h such as 2s or 500ms (got '%s')",
			    name, value);
			return -1;
		}
		return 0;
	}
	const char **slot =
	    strcmp(name, "collector.diskstats.device-include") == 0   ? &h->disk_include
	    : strcmp(name, "collector.diskstats.device-exclude") == 0 ? &h->disk_exclude
	    : strcmp(name, "collector.netdev.device-include") == 0    ? &h->netdev_include
	    : strcmp(name, "collector.netdev.device-exclude") == 0    ? &h->netdev_exclude
	    : strcmp(name, "collector.filesystem.mount-points-exclude") == 0
	        ? &h->mount_points_exclude
	    : strcmp(name, "collector.filesystem.fs-types-exclude") == 0 ? &h->fs_types_exclude
	                                                                 : NULL;
	if (!slot) {
		snprintf(err, errlen, "unknown flag '--%s' (see --help)", name);
		return -1;
	}
	struct name_filter *f = name_filter_new(value, NULL, name, err, errlen);
	if (!f) {
		/* name_filter says "NAME include regex": say which flag instead. */
		char why[512];
		snprintf(why, sizeof(why), "%s", err);
		const char *msg = strstr(why, "does not compile");
		snprintf(err, errlen, "--%s: the regex %s", name, msg ? msg : why);
		return -1;
	}
	name_filter_free(f);
	*slot = value;
	return 0;
}

static int apply_string(struct options *o, const char *name, const char *value, char *err,
                        size_t errlen)
{
	if (strcmp(name, "web.listen-address") == 0) {
		if (o->nlisten == OPTIONS_MAX_LISTEN) {
			snprintf(err, errlen, "at most %d --web.listen-address flags",
			         OPTIONS_MAX_LISTEN);
			return -1;
		}
		o->listen[o->nlisten++] = value;
	} else if (strcmp(name, "web.telemetry-path") == 0) {
		if (value[0] != '/' || strcmp(value, "/") == 0 || strncmp(value, "/-/", 3) == 0) {
			snprintf(err, errlen,
			         "--web.telemetry-path must start with '/' and must not be '/' "
			         "or under '/-/' (got '%s')",
			         value);
			return -1;
		}
		o->telemetry_path = value;
	} else if (strcmp(name, "web.config.file") == 0) {
		o->web_config_file = value;
	} else if (strcmp(name, "config.file") == 0) {
		o->config_file = value;
	} else if (strcmp(name, "path.procfs") == 0) {
		if (value[0] == '\0') {
			snprintf(err, errlen, "--path.procfs must not be empty");
			return -1;
		}
		o->procfs = value;
	} else if (strcmp(name, "path.sysfs") == 0 || strcmp(name, "path.rootfs") == 0) {
		return apply_path(o, name, value, err, errlen);
	} else if (is_host_setting(name)) {
		return apply_host_setting(&o->host, name, value, err, errlen);
	} else if (strcmp(name, "run-as") == 0) {
		if (value[0] == '\0') {
			snprintf(err, errlen, "--run-as must name a user");
			return -1;
		}
		o->run_as = value;
	} else if (strcmp(name, "log.level") == 0) {
		int level = log_level_parse(value);
		if (level < 0) {
			snprintf(err, errlen,
			         "--log.level must be debug, info, warn or error (got '%s')",
			         value);
			return -1;
		}
		o->log_level = (enum log_level)level;
	} else if (strcmp(name, "log.format") == 0) {
		int format = log_format_parse(value);
		if (format < 0) {
			snprintf(err, errlen, "--log.format must be logfmt or json (got '%s')",
			         value);
			return -1;
		}
		o->log_format = (enum log_format)format;
	} else if (strcmp(name, "collector.textfile.directory") == 0) {
		if (value[0] == '\0') {
			snprintf(err, errlen, "--collector.textfile.directory must not be empty");
			return -1;
		}
		o->textfile_directory = value;
	} else if (strcmp(name, "web.max-connections") == 0) {
		if (parse_uint(value, 1, 100000, &o->max_connections) < 0)
			goto bad_number;
	} else if (strcmp(name, "web.max-connections-per-ip") == 0) {
		if (parse_uint(value, 1, 100000, &o->max_connections_per_ip) < 0)
			goto bad_number;
	} else if (strcmp(name, "web.max-event-streams") == 0) {
		if (parse_uint(value, 0, 1024, &o->max_event_streams) < 0)
			goto bad_number;
	} else if (strcmp(name, "web.timeout") == 0) {
		if (parse_uint(value, 1, 3600, &o->timeout_seconds) < 0)
			goto bad_number;
	}
	return 0;
bad_number:
	snprintf(err, errlen, "--%s needs a whole number in range (got '%s')", name, value);
	return -1;
}

static void apply_bool(struct options *o, const char *name, bool value)
{
	if (strcmp(name, "web.systemd-socket") == 0)
		o->systemd_socket = value;
	else if (strcmp(name, "web.disable-exporter-metrics") == 0)
		o->disable_exporter_metrics = value;
	else if (strcmp(name, "collector.disable-defaults") == 0)
		o->disable_defaults = value;
	else if (strcmp(name, "processes.read-other-users") == 0)
		o->read_other_users = value;
	else if (strcmp(name, "sandbox.seccomp") == 0)
		o->seccomp = value;
	else if (strcmp(name, "check-config") == 0)
		o->check_config = value;
	else if (strcmp(name, "version") == 0)
		o->show_version = value;
	else if (strcmp(name, "help") == 0)
		o->show_help = value;
}

/* A textfile directory turns the collector on, as if --collector.textfile came before every
 * other flag: a --no-collector.textfile anywhere still turns it off. */
static int textfile_implied(struct options *o, char *err, size_t errlen)
{
	if (o->ntoggles == OPTIONS_MAX_TOGGLES) {
		snprintf(err, errlen, "too many --collector flags");
		return -1;
	}
	memmove(o->toggles + 1, o->toggles, o->ntoggles * sizeof(o->toggles[0]));
	o->toggles[0] = (struct collector_toggle){TEXTFILE_COLLECTOR, true};
	o->ntoggles++;
	return 0;
}

/* Whether the flags turn the textfile collector on (it is off by default). */
static bool textfile_wanted(const struct options *o)
{
	bool on = false;
	for (size_t i = 0; i < o->ntoggles; i++)
		if (strcmp(o->toggles[i].name, TEXTFILE_COLLECTOR) == 0)
			on = o->toggles[i].enabled;
	return on;
}

static const struct flag *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

/* One argument (and maybe the next, as its value). Returns how many were used, or -1. */
static int parse_one(struct options *o, int argc, char **argv, int i, char *err, size_t errlen)
{
	const char *arg = argv[i];
	if (strcmp(arg, "-h") == 0) {
		o->show_help = true;
		return 1;
	}
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
		snprintf(err, errlen, "unexpected argument '%s'", arg);
		return -1;
	}
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t name_len = eq ? (size_t)(eq - name) : strlen(name);

	/* Flags first: some names (collector.disable-defaults) look like collector toggles. */
	bool negated = false;
	const struct flag *f = find_flag(name, name_len);
	if (!f && strncmp(name, "no-", 3) == 0) {
		f = find_flag(name + 3, name_len - 3);
		negated = f != NULL;
	}
	if (!f &&
	    (strncmp(name, "collector.", 10) == 0 || strncmp(name, "no-collector.", 13) == 0)) {
		bool enabled = name[0] != 'n';
		if (eq) {
			snprintf(err, errlen, "--%.*s takes no value", (int)name_len, name);
			return -1;
		}
		return toggle_collector(o, strchr(name, '.') + 1, enabled, err, errlen) < 0 ? -1
		                                                                            : 1;
	}
	if (!f) {
		snprintf(err, errlen, "unknown flag '--%.*s' (see --help)", (int)name_len, name);
		return -1;
	}
	if (f->kind == FLAG_BOOL) {
		if (eq) {
			snprintf(err, errlen, "--%s takes no value", f->name);
			return -1;
		}
		apply_bool(o, f->name, !negated);
		return 1;
	}
	if (negated) {
		snprintf(err, errlen, "unknown flag '--%.*s' (see --help)", (int)name_len, name);
		return -1;
	}
	if (eq)
		return apply_string(o, f->name, eq + 1, err, errlen) < 0 ? -1 : 1;
	if (i + 1 >= argc) {
		snprintf(err, errlen, "--%s needs a value", f->name);
		return -1;
	}
	return apply_string(o, f->name, argv[i + 1], err, errlen) < 0 ? -1 : 2;
}

/* An include and an exclude regex for the same names are mutually exclusive, as in node_exporter;
 * the exclude's default applies only when neither is given. */
static int check_include_exclude(const char **include, const char **exclude, const char *dflt,
                                 const char *flag, char *err, size_t errlen)
{
	if (*include && *exclude) {
		snprintf(err, errlen,
		         "--collector.%s-include and --collector.%s-exclude are mutually exclusive",
		         flag, flag);
		return -1;
	}
	if (!*include && !*exclude)
		*exclude = dflt;
	return 0;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	set_defaults(o);
	for (int i = 1; i < argc;) {
		int used = parse_one(o, argc, argv, i, err, errlen);
		if (used < 0)
			return -1;
		i += used;
	}
	if (check_include_exclude(&o->host.disk_include, &o->host.disk_exclude,
	                          DEFAULT_DISK_EXCLUDE, "diskstats.device", err, errlen) < 0 ||
	    check_include_exclude(&o->host.netdev_include, &o->host.netdev_exclude,
	                          DEFAULT_NETDEV_EXCLUDE, "netdev.device", err, errlen) < 0)
		return -1;
	if (!o->host.mount_points_exclude)
		o->host.mount_points_exclude = DEFAULT_MOUNT_POINTS_EXCLUDE;
	if (!o->host.fs_types_exclude)
		o->host.fs_types_exclude = DEFAULT_FS_TYPES_EXCLUDE;
	if (o->textfile_directory && textfile_implied(o, err, errlen) < 0)
		return -1;
	if (textfile_wanted(o) && !o->textfile_directory) {
		snprintf(err, errlen,
		         "--collector.textfile needs --collector.textfile.directory=DIR: the "
		         "directory of the *.prom files to serve");
		return -1;
	}
	o->listen_given = o->nlisten > 0;
	if (o->nlisten == 0)
		o->listen[o->nlisten++] = DEFAULT_LISTEN;
	if (o->check_config && !o->config_file && !o->web_config_file) {
		snprintf(err, errlen, "--check-config needs --config.file or --web.config.file");
		return -1;
	}
	return 0;
}

void options_usage(FILE *out)
{
	fprintf(out, "Usage: kobsd [FLAGS]\n\n"
	             "kobsd, the kernel observatory daemon: serves Linux system and process-group\n"
	             "metrics for Prometheus.\n\nFlags:\n");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char left[64];
		if (flags[i].kind == FLAG_STRING)
			snprintf(left, sizeof(left), "--%s=%s", flags[i].name, flags[i].value_name);
		else if (strcmp(flags[i].name, "help") == 0)
			snprintf(left, sizeof(left), "--help, -h");
		else
			snprintf(left, sizeof(left), "--%s", flags[i].name);
		fprintf(out, "  %-34s %s\n", left, flags[i].help);
	}
	fprintf(out, "\nCollectors (--collector.NAME enables, --no-collector.NAME disables; the "
	             "last flag naming a collector wins):\n");
	collectors_usage(out);
	fprintf(out, "\nExit codes: 0 ok, %d usage error, %d bad configuration.\n", EXIT_USAGE,
	        EXIT_CONFIG);
}
