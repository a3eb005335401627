#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "options.h"

static int parse(struct options *o, char *err, size_t errlen, int argc, char **argv)
{
	return options_parse(argc, argv, o, err, errlen);
}

#define ARGV(...)          ((char *[]){"kobsd", __VA_ARGS__, NULL})
#define ARGC(...)          ((int)(sizeof((char *[]){"kobsd", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...) parse(o, err, sizeof(err), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void defaults_listen_on_port_9477_everywhere(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	char *argv[] = {"kobsd", NULL};
	assert_int_equal(options_parse(1, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.nlisten, 1);
	assert_string_equal(o.listen[0], ":9477");
	assert_string_equal(o.telemetry_path, "/metrics");
	assert_string_equal(o.procfs, "/proc");
	assert_null(o.config_file);
	assert_int_equal(o.log_level, LOG_LEVEL_INFO);
}

static void listen_address_is_repeatable(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(
	    PARSE(&o, err, "--web.listen-address=127.0.0.1:1", "--web.listen-address", "[::1]:2"),
	    0);
	assert_int_equal(o.nlisten, 2);
	assert_string_equal(o.listen[0], "127.0.0.1:1");
	assert_string_equal(o.listen[1], "[::1]:2");
}

static void value_may_follow_as_next_argument(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--path.procfs", "/host/proc", "--log.level", "debug"), 0);
	assert_string_equal(o.procfs, "/host/proc");
	assert_int_equal(o.log_level, LOG_LEVEL_DEBUG);
}

static void unknown_flag_is_an_error_naming_it(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--web.listen-adress=:1"), -1);
	assert_non_null(strstr(err, "--web.listen-adress"));
}

static void flag_without_its_value_is_an_error(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--config.file"), -1);
	assert_non_null(strstr(err, "needs a value"));
}

static void collector_toggles_are_recorded_in_order(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--no-collector.system", "--collector.system"), 0);
	assert_int_equal(o.ntoggles, 2);
	assert_false(o.toggles[0].enabled);
	assert_true(o.toggles[1].enabled);
	assert_string_equal(o.toggles[1].name, "system");
}

static void unknown_collector_is_an_error_listing_known_ones(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.nosuch"), -1);
	assert_non_null(strstr(err, "nosuch"));
	assert_non_null(strstr(err, "system"));
}

static void bad_log_level_is_an_error(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--log.level=verbose"), -1);
	assert_non_null(strstr(err, "verbose"));
}

static void telemetry_path_must_be_absolute_and_not_reserved(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--web.telemetry-path=metrics"), -1);
	assert_int_equal(PARSE(&o, err, "--web.telemetry-path=/"), -1);
	assert_int_equal(PARSE(&o, err, "--web.telemetry-path=/-/healthy"), -1);
	assert_int_equal(PARSE(&o, err, "--web.telemetry-path=/prom"), 0);
	assert_string_equal(o.telemetry_path, "/prom");
}

static void boolean_flag_rejects_a_value(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--version=yes"), -1);
}

static void check_config_needs_a_config_file(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--check-config"), -1);
	assert_int_equal(PARSE(&o, err, "--check-config", "--config.file=/x.yml"), 0);
	assert_true(o.check_config);
}

static void numbers_out_of_range_are_rejected(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--web.max-connections=0"), -1);
	assert_int_equal(PARSE(&o, err, "--web.timeout=-5"), -1);
	assert_int_equal(PARSE(&o, err, "--web.timeout=5s"), -1);
	assert_int_equal(PARSE(&o, err, "--web.max-connections-per-ip=99999999999999999999"), -1);
	assert_int_equal(PARSE(&o, err, "--web.timeout=30"), 0);
	assert_int_equal(o.timeout_seconds, 30);
}

static void event_streams_default_to_16_and_may_be_turned_off(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--web.timeout=30"), 0);
	assert_int_equal(o.max_event_streams, 16);
	assert_int_equal(PARSE(&o, err, "--web.max-event-streams=0"), 0);
	assert_int_equal(o.max_event_streams, 0);
	assert_int_equal(PARSE(&o, err, "--web.max-event-streams=1024"), 0);
	assert_int_equal(o.max_event_streams, 1024);
	assert_int_equal(PARSE(&o, err, "--web.max-event-streams=1025"), -1);
	assert_non_null(strstr(err, "--web.max-event-streams"));
}

static void positional_argument_is_an_error(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "serve"), -1);
	assert_int_equal(PARSE(&o, err, "--"), -1);
}

static void privileges_default_to_run_as_kobsd_or_nobody_with_the_filter(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--log.level=info"), 0);
	assert_null(o.run_as);
	assert_false(o.read_other_users);
	assert_true(o.seccomp);
}

static void privilege_flags_are_recorded(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--run-as=daemon", "--processes.read-other-users",
	                       "--no-sandbox.seccomp"),
	                 0);
	assert_string_equal(o.run_as, "daemon");
	assert_true(o.read_other_users);
	assert_false(o.seccomp);
}

static void an_empty_run_as_is_an_error(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--run-as="), -1);
	assert_non_null(strstr(err, "--run-as"));
}

static void short_h_asks_for_help(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "-h"), 0);
	assert_true(o.show_help);
}

static void exporter_conventions_default_off(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	char *argv[] = {"kobsd", NULL};
	assert_int_equal(options_parse(1, argv, &o, err, sizeof(err)), 0);
	assert_false(o.disable_defaults);
	assert_false(o.disable_exporter_metrics);
	assert_null(o.textfile_directory);
	assert_int_equal(o.log_format, LOG_FORMAT_LOGFMT);
	assert_int_equal(o.ntoggles, 0);
}

static void disable_defaults_is_a_flag_not_a_collector(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.disable-defaults", "--collector.system"), 0);
	assert_true(o.disable_defaults);
	assert_int_equal(o.ntoggles, 1);
	assert_string_equal(o.toggles[0].name, "system");
	assert_int_equal(PARSE(&o, err, "--collector.disable-defaults=yes"), -1);
}

static void disable_exporter_metrics_is_recorded(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--web.disable-exporter-metrics"), 0);
	assert_true(o.disable_exporter_metrics);
}

static void log_format_is_logfmt_or_json(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--log.format=json"), 0);
	assert_int_equal(o.log_format, LOG_FORMAT_JSON);
	assert_int_equal(PARSE(&o, err, "--log.format", "logfmt"), 0);
	assert_int_equal(o.log_format, LOG_FORMAT_LOGFMT);
	assert_int_equal(PARSE(&o, err, "--log.format=yaml"), -1);
	assert_non_null(strstr(err, "logfmt or json"));
	assert_non_null(strstr(err, "yaml"));
}

static void a_textfile_directory_turns_the_collector_on(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--no-collector.system",
	                       "--collector.textfile.directory=/var/lib/kobsd"),
	                 0);
	assert_string_equal(o.textfile_directory, "/var/lib/kobsd");
	assert_int_equal(o.ntoggles, 2);
	/* First, so that a flag naming the collector decides. */
	assert_string_equal(o.toggles[0].name, "textfile");
	assert_true(o.toggles[0].enabled);
	assert_string_equal(o.toggles[1].name, "system");
}

static void no_collector_textfile_wins_over_the_directory(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(
	    PARSE(&o, err, "--no-collector.textfile", "--collector.textfile.directory=/d"), 0);
	assert_false(o.toggles[o.ntoggles - 1].enabled);
	assert_string_equal(o.toggles[o.ntoggles - 1].name, "textfile");
}

static void the_textfile_collector_needs_a_directory(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.textfile"), -1);
	assert_non_null(strstr(err, "--collector.textfile.directory"));
	assert_int_equal(PARSE(&o, err, "--collector.textfile.directory="), -1);
	assert_int_equal(PARSE(&o, err, "--no-collector.textfile.directory"), -1);
}

static void host_paths_default_to_sys_and_root(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	char *argv[] = {"kobsd", NULL};
	assert_int_equal(options_parse(1, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host.sysfs, "/sys");
	assert_string_equal(o.host.rootfs, "/");
	assert_string_equal(o.host.disk_exclude, DEFAULT_DISK_EXCLUDE);
	assert_null(o.host.disk_include);
	assert_string_equal(o.host.netdev_exclude, "^lo$");
	assert_string_equal(o.host.mount_points_exclude, DEFAULT_MOUNT_POINTS_EXCLUDE);
	assert_string_equal(o.host.fs_types_exclude, DEFAULT_FS_TYPES_EXCLUDE);
	assert_true(o.host.mount_timeout == DEFAULT_MOUNT_TIMEOUT_SECONDS);
}

static void host_paths_lose_their_trailing_slash(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	char sysfs[] = "--path.sysfs=/host/sys/";
	char rootfs[] = "--path.rootfs=/host/root//";
	char *argv[] = {"kobsd", sysfs, rootfs, NULL};
	assert_int_equal(options_parse(3, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host.sysfs, "/host/sys");
	assert_string_equal(o.host.rootfs, "/host/root");
	char slash[] = "--path.rootfs=///";
	char *argv2[] = {"kobsd", slash, NULL};
	assert_int_equal(options_parse(2, argv2, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host.rootfs, "/");
}

static void a_relative_host_path_is_an_error(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--path.rootfs=host/root"), -1);
	assert_non_null(strstr(err, "--path.rootfs must be an absolute directory"));
}

static void collector_settings_are_flags_not_toggles(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.diskstats.device-exclude=^sd",
	                       "--collector.netdev.device-include", "^eth",
	                       "--collector.filesystem.fs-types-exclude=^tmpfs$",
	                       "--collector.filesystem.mount-points-exclude=^/boot",
	                       "--collector.diskstats"),
	                 0);
	assert_string_equal(o.host.disk_exclude, "^sd");
	assert_string_equal(o.host.netdev_include, "^eth");
	assert_null(o.host.netdev_exclude); /* an include replaces the default exclude */
	assert_string_equal(o.host.fs_types_exclude, "^tmpfs$");
	assert_string_equal(o.host.mount_points_exclude, "^/boot");
	assert_int_equal(o.ntoggles, 1);
	assert_string_equal(o.toggles[0].name, "diskstats");
}

static void collector_settings_and_the_textfile_directory_go_to_their_own_options(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.disable-defaults", "--collector.diskstats",
	                       "--collector.diskstats.device-exclude=^loop",
	                       "--collector.filesystem.mount-timeout=1s",
	                       "--collector.textfile.directory=/var/lib/kobsd"),
	                 0);
	assert_true(o.disable_defaults);
	assert_string_equal(o.host.disk_exclude, "^loop");
	assert_true(o.host.mount_timeout == 1);
	assert_string_equal(o.host.fs_types_exclude, DEFAULT_FS_TYPES_EXCLUDE);
	assert_string_equal(o.textfile_directory, "/var/lib/kobsd");
	assert_int_equal(o.ntoggles, 2);
	assert_string_equal(o.toggles[0].name, "textfile");
	assert_string_equal(o.toggles[1].name, "diskstats");
	assert_true(o.toggles[1].enabled);
}

static void a_collector_setting_has_no_negated_form(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--no-collector.diskstats.device-exclude=^sd"), -1);
	assert_non_null(strstr(err, "unknown flag"));
	assert_int_equal(PARSE(&o, err, "--no-collector.filesystem.mount-timeout"), -1);
}

static void include_and_exclude_of_one_collector_are_mutually_exclusive(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.netdev.device-include=^eth",
	                       "--collector.netdev.device-exclude=^lo$"),
	                 -1);
	assert_non_null(strstr(err, "mutually exclusive"));
}

static void a_regex_that_does_not_compile_is_an_error_naming_the_flag(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.diskstats.device-exclude=^(sd"), -1);
	assert_non_null(strstr(err, "--collector.diskstats.device-exclude"));
	assert_non_null(strstr(err, "does not compile"));
}

static void mount_timeout_takes_a_duration(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	assert_int_equal(PARSE(&o, err, "--collector.filesystem.mount-timeout=500ms"), 0);
	assert_true(o.host.mount_timeout == 0.5);
	assert_int_equal(PARSE(&o, err, "--collector.filesystem.mount-timeout=5s"), 0);
	assert_true(o.host.mount_timeout == 5);
	assert_int_equal(PARSE(&o, err, "--collector.filesystem.mount-timeout=3"), 0);
	assert_true(o.host.mount_timeout == 3);
	assert_int_equal(PARSE(&o, err, "--collector.filesystem.mount-timeout=0"), -1);
	assert_int_equal(PARSE(&o, err, "--collector.filesystem.mount-timeout=2h"), -1);
	assert_int_equal(PARSE(&o, err, "--collector.filesystem.mount-timeout=soon"), -1);
	assert_non_null(strstr(err, "--collector.filesystem.mount-timeout"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_listen_on_port_9477_everywhere),
	    cmocka_unit_test(listen_address_is_repeatable),
	    cmocka_unit_test(value_may_follow_as_next_argument),
	    cmocka_unit_test(unknown_flag_is_an_error_naming_it),
	    cmocka_unit_test(flag_without_its_value_is_an_error),
	    cmocka_unit_test(collector_toggles_are_recorded_in_order),
	    cmocka_unit_test(unknown_collector_is_an_error_listing_known_ones),
	    cmocka_unit_test(bad_log_level_is_an_error),
	    cmocka_unit_test(telemetry_path_must_be_absolute_and_not_reserved),
	    cmocka_unit_test(boolean_flag_rejects_a_value),
	    cmocka_unit_test(check_config_needs_a_config_file),
	    cmocka_unit_test(numbers_out_of_range_are_rejected),
	    cmocka_unit_test(event_streams_default_to_16_and_may_be_turned_off),
	    cmocka_unit_test(positional_argument_is_an_error),
	    cmocka_unit_test(privileges_default_to_run_as_kobsd_or_nobody_with_the_filter),
	    cmocka_unit_test(privilege_flags_are_recorded),
	    cmocka_unit_test(an_empty_run_as_is_an_error),
	    cmocka_unit_test(short_h_asks_for_help),
	    cmocka_unit_test(exporter_conventions_default_off),
	    cmocka_unit_test(disable_defaults_is_a_flag_not_a_collector),
	    cmocka_unit_test(disable_exporter_metrics_is_recorded),
	    cmocka_unit_test(log_format_is_logfmt_or_json),
	    cmocka_unit_test(a_textfile_directory_turns_the_collector_on),
	    cmocka_unit_test(no_collector_textfile_wins_over_the_directory),
	    cmocka_unit_test(the_textfile_collector_needs_a_directory),
	    cmocka_unit_test(host_paths_default_to_sys_and_root),
	    cmocka_unit_test(host_paths_lose_their_trailing_slash),
	    cmocka_unit_test(a_relative_host_path_is_an_error),
	    cmocka_unit_test(collector_settings_are_flags_not_toggles),
	    cmocka_unit_test(collector_settings_and_the_textfile_directory_go_to_their_own_options),
	    cmocka_unit_test(a_collector_setting_has_no_negated_form),
	    cmocka_unit_test(include_and_exclude_of_one_collector_are_mutually_exclusive),
	    cmocka_unit_test(a_regex_that_does_not_compile_is_an_error_naming_the_flag),
	    cmocka_unit_test(mount_timeout_takes_a_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
