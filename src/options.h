/* The command line. Flags follow the Prometheus exporters' conventions: `--name=value` or
 * `--name value`, `--collector.NAME` / `--no-collector.NAME`. */
#ifndef KOBS_OPTIONS_H
#define KOBS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "host_options.h"
#include "log.h"

#define OPTIONS_MAX_LISTEN  16
#define OPTIONS_MAX_TOGGLES 32

/* Exit codes (sysexits.h values, which systemd and packagers understand). */
#define EXIT_USAGE  64
#define EXIT_CONFIG 78

struct collector_toggle {
	const char *name;
	bool enabled;
};

struct options {
	const char *listen[OPTIONS_MAX_LISTEN];
	size_t nlisten;
	const char *telemetry_path;
	const char *config_file;     /* NULL: none */
	const char *web_config_file; /* NULL: plain HTTP, no authentication */
	const char *procfs;
	struct host_options host; /* --path.sysfs, --path.rootfs, --collector.NAME.SETTING */
	enum log_level log_level;
	enum log_format log_format;
	/* In order; a --collector.textfile.directory counts as a --collector.textfile given
	 * before every flag of the command line. */
	struct collector_toggle toggles[OPTIONS_MAX_TOGGLES];
	size_t ntoggles;
	const char *textfile_directory; /* NULL: the textfile collector has nothing to read */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	unsigned timeout_seconds;
	unsigned max_event_streams; /* --web.max-event-streams */
	const char *run_as;         /* --run-as; NULL: the default (kobsd, else nobody) */
	bool read_other_users;      /* keep CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH */
	bool seccomp;               /* install the system call filter (default on) */
	bool listen_given;          /* --web.listen-address was on the command line */
	bool systemd_socket;
	bool disable_defaults;         /* --collector.disable-defaults */
	bool disable_exporter_metrics; /* --web.disable-exporter-metrics */
	bool check_config;
	bool show_version;
	bool show_help;
};

/* Parse argv into `o` (defaults first). The strings point into argv. Returns 0, or -1 with a
 * message for the user in `err`. */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);

/* The --help text. */
void options_usage(FILE *out);

#endif
