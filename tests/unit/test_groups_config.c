#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "groups_config.h"

/* process-exporter's README example, unedited. */
static const char readme_example[] =
    "process_names:\n"
    "  # comm is the second field of /proc/<pid>/stat minus parens.\n"
    "  # It is the base executable name, truncated at 15 chars.\n"
    "  # It cannot be modified by the program, unlike exe.\n"
    "  - comm:\n"
    "    - bash\n"
    "\n"
    "  # exe is argv[0]. If no slashes, only basename of argv[0] need match.\n"
    "  # If exe contains slashes, argv[0] must match exactly.\n"
    "  - exe:\n"
    "    - postgres\n"
    "    - /usr/local/bin/prometheus\n"
    "\n"
    "  # cmdline is a list of regexps applied to argv.\n"
    "  # Each must match, and any captures are added to the .Matches map.\n"
    "  - name: \"{{.ExeFull}}:{{.Matches.Cfgfile}}\"\n"
    "    exe:\n"
    "    - /usr/local/bin/process-exporter\n"
    "    cmdline:\n"
    "    - -config.path\\s+(?P<Cfgfile>\\S+)\n";

static char err[512];
static struct groups_config *config;
static struct buf name;
static struct group_match match;

static int setup(void **state)
{
	(void)state;
	config = NULL;
	buf_init(&name);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	groups_config_free(config);
	buf_free(&name);
	return 0;
}

/* Parse `text` as "t.yml", which must succeed; the config is freed by teardown. */
static void load(const char *text)
{
	groups_config_free(config);
	config = NULL;
	if (groups_config_parse("t.yml", text, strlen(text), &config, err, sizeof(err)) < 0)
		fail_msg("does not load: %s", err);
	assert_non_null(config);
}

/* Parse `text`, which must fail; returns the message. */
static const char *load_error(const char *text)
{
	struct groups_config *c = (struct groups_config *)1;
	assert_int_equal(groups_config_parse("t.yml", text, strlen(text), &c, err, sizeof(err)),
	                 -1);
	assert_null(c);
	return err;
}

/* A process: comm, then argv (NULL-terminated; none for a kernel thread). */
struct proc {
	struct proc_identity id;
	const char *argv[8];
};

static struct proc process(const char *comm, const char *argv0, const char *arg1, const char *arg2)
{
	struct proc p = {.id = {.pid = 100,
	                        .start_time = 1700000000.75,
	                        .comm = comm,
	                        .cgroup = "/user.slice/user-1000.slice/session-2.scope",
	                        .user = "alice",
	                        .uid = 1000},
	                 .argv = {argv0, arg1, arg2}};
	while (p.id.argc < 3 && p.argv[p.id.argc])
		p.id.argc++;
	return p;
}

/* The group name `p` gets, or NULL when no entry matches. */
static const char *group_of(struct proc *p)
{
	p->id.argv = p->id.argc ? p->argv : NULL;
	memset(&match, 0xff, sizeof(match));
	if (!groups_config_match(config, &p->id, &match, &name))
		return NULL;
	assert_true(match.entry < groups_config_entries(config));
	return name.data;
}

static struct proc bash(void)
{
	return process("bash", "-bash", NULL, NULL);
}

/* ---- process-exporter's configs ---- */

static void readme_example_groups_by_comm(void **state)
{
	(void)state;
	load(readme_example);
	struct proc p = bash();
	assert_string_equal(group_of(&p), "-bash"); /* the default name is {{.ExeBase}} */
	assert_int_equal(match.entry, 0);
}

static void readme_example_groups_by_exe_base_name(void **state)
{
	(void)state;
	load(readme_example);
	struct proc p = process("postgres", "/usr/lib/postgresql/15/bin/postgres", "-D", "/data");
	assert_string_equal(group_of(&p), "postgres");
	assert_int_equal(match.entry, 1);
}

static void readme_example_names_the_group_with_a_cmdline_capture(void **state)
{
	(void)state;
	load(readme_example);
	struct proc p = process("process-exporte", "/usr/local/bin/process-exporter",
	                        "-config.path", "/etc/pe.yml");
	assert_string_equal(group_of(&p), "/usr/local/bin/process-exporter:/etc/pe.yml");
	assert_int_equal(match.entry, 2);
}

static void readme_example_leaves_other_processes_ungrouped(void **state)
{
	(void)state;
	load(readme_example);
	struct proc p = process("sshd", "/usr/sbin/sshd", "-D", NULL);
	assert_null(group_of(&p));
}

/* ---- matchers ---- */

static void comm_matches_any_listed_name_exactly(void **state)
{
	(void)state;
	load("process_names:\n  - name: shells\n    comm: [zsh, bash]\n");
	struct proc b = bash(), basher = process("basher", "basher", NULL, NULL);
	assert_string_equal(group_of(&b), "shells");
	assert_null(group_of(&basher));
}

static void exe_without_slash_matches_the_base_name_of_argv0(void **state)
{
	(void)state;
	load("process_names:\n  - exe: [nginx]\n");
	struct proc p = process("nginx", "/usr/sbin/nginx", NULL, NULL);
	assert_string_equal(group_of(&p), "nginx");
}

static void exe_with_slash_must_equal_argv0(void **state)
{
	(void)state;
	load("process_names:\n  - exe: [/usr/sbin/nginx]\n");
	struct proc exact = process("nginx", "/usr/sbin/nginx", NULL, NULL);
	struct proc other = process("nginx", "/opt/sbin/nginx", NULL, NULL);
	assert_string_equal(group_of(&exact), "nginx");
	assert_null(group_of(&other));
}

static void exe_never_matches_a_process_without_argv(void **state)
{
	(void)state;
	load("process_names:\n  - exe: [kthreadd]\n");
	struct proc p = process("kthreadd", NULL, NULL, NULL);
	assert_null(group_of(&p));
}

static void cmdline_regexes_must_all_match(void **state)
{
	(void)state;
	load("process_names:\n  - name: py\n    cmdline: ['^python', 'manage\\.py']\n");
	struct proc both = process("python3", "python3", "manage.py", "runserver");
	struct proc one = process("python3", "python3", "app.py", NULL);
	assert_string_equal(group_of(&both), "py");
	assert_null(group_of(&one));
}

static void cmdline_is_matched_on_argv_joined_with_spaces(void **state)
{
	(void)state;
	load("process_names:\n  - name: x\n    cmdline: ['^sleep 10 20$']\n");
	struct proc p = process("sleep", "sleep", "10", "20");
	assert_string_equal(group_of(&p), "x");
}

static void cmdline_matches_argv_with_invalid_utf8(void **state)
{
	(void)state;
	load("process_names:\n  - name: app\n    cmdline: ['^app --name=.*x$']\n");
	struct proc p = process("app", "app", "--name=caf\xe9\xff x", NULL);
	assert_string_equal(group_of(&p), "app");
}

/* As in Go, which reads each invalid byte as U+FFFD: \S matches it, and the capture holds the
 * original bytes. */
static void a_capture_keeps_invalid_utf8(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Matches.arg}}'\n    cmdline: "
	     "['--name=(?P<arg>\\S+)']\n");
	struct proc p = process("app", "app", "--name=caf\xe9\xff", NULL);
	assert_string_equal(group_of(&p), "caf\xe9\xff");
}

static void each_invalid_byte_is_one_character_as_in_go(void **state)
{
	(void)state;
	load("process_names:\n  - name: two\n    cmdline: ['^x .{2}$']\n");
	struct proc p = process("x", "x", "\xe2\x82", NULL); /* a '€' without its last byte */
	assert_string_equal(group_of(&p), "two");
}

static void kernel_threads_match_cmdline_on_an_empty_line(void **state)
{
	(void)state;
	load("process_names:\n  - name: any\n    cmdline: ['.*']\n  - name: some\n    comm: "
	     "[kthreadd]\n");
	struct proc k = process("kthreadd", NULL, NULL, NULL);
	assert_string_equal(group_of(&k), "any");
}

static void a_later_capture_overwrites_an_earlier_one_of_the_same_name(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Matches.x}}'\n    cmdline: ['(?P<x>a+)', "
	     "'(?P<x>b+)']\n");
	struct proc p = process("t", "t", "aa", "bb");
	assert_string_equal(group_of(&p), "bb");
}

static void a_capture_that_took_no_part_is_empty(void **state)
{
	(void)state;
	load("process_names:\n  - name: '[{{.Matches.opt}}]'\n    cmdline: ['^t(?P<opt> "
	     "-v)?']\n");
	struct proc p = process("t", "t", NULL, NULL);
	assert_string_equal(group_of(&p), "[]");
}

static void cgroup_regexes_match_any(void **state)
{
	(void)state;
	load("process_names:\n  - name: sessions\n    cgroup: ['^/system\\.slice/', "
	     "'/session-\\d+\\.scope$']\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "sessions");
}

static void cgroup_captures_feed_matches(void **state)
{
	(void)state;
	load("process_names:\n  - name: 'session {{.Matches.n}}'\n    cgroup: "
	     "['session-(?P<n>\\d+)']\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "session 2");
}

static void cgroup_never_matches_a_process_without_cgroup(void **state)
{
	(void)state;
	load("process_names:\n  - cgroup: ['.*']\n");
	struct proc p = bash();
	p.id.cgroup = NULL;
	assert_null(group_of(&p));
}

static void unit_matches_a_glob(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Unit}}'\n    unit: ['postgresql@*.service']\n");
	struct proc p = process("postgres", "postgres", NULL, NULL);
	p.id.unit = "postgresql@15-main.service";
	assert_string_equal(group_of(&p), "postgresql@15-main.service");
}

static void unit_never_matches_a_process_without_unit(void **state)
{
	(void)state;
	load("process_names:\n  - unit: ['*']\n");
	struct proc p = bash();
	assert_null(group_of(&p));
}

static void user_matches_a_name(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Username}}'\n    user: [bob, alice]\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "alice");
}

static void user_of_digits_matches_the_uid(void **state)
{
	(void)state;
	load("process_names:\n  - name: by-uid\n    user: [1000]\n");
	struct proc p = bash();
	p.id.user = NULL;
	assert_string_equal(group_of(&p), "by-uid");
}

static void every_matcher_of_an_entry_must_match(void **state)
{
	(void)state;
	load("process_names:\n  - comm: [bash]\n    user: [root]\n");
	struct proc p = bash();
	assert_null(group_of(&p));
}

static void the_first_matching_entry_wins(void **state)
{
	(void)state;
	load("process_names:\n  - name: first\n    comm: [bash]\n  - name: second\n    comm: "
	     "[bash]\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "first");
	assert_int_equal(match.entry, 0);
}

/* ---- names ---- */

static void every_template_field_expands(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Comm}}|{{.ExeBase}}|{{.ExeFull}}|{{.Username}}|"
	     "{{.PID}}|{{.StartTime}}|{{.Cgroups}}|{{.Cgroup}}|{{.Unit}}'\n    comm: [bash]\n");
	struct proc p = process("bash", "/bin/bash", "-l", NULL);
	p.id.unit = "session-2.scope";
	assert_string_equal(group_of(&p),
	                    "bash|bash|/bin/bash|alice|100|1700000000|"
	                    "/user.slice/user-1000.slice/session-2.scope|"
	                    "/user.slice/user-1000.slice/session-2.scope|session-2.scope");
}

static void exe_fields_are_the_comm_of_a_process_without_argv(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.ExeBase}} {{.ExeFull}}'\n    comm: [kworker/0:1]\n");
	struct proc p = process("kworker/0:1", NULL, NULL, NULL);
	assert_string_equal(group_of(&p), "kworker/0:1 kworker/0:1");
}

static void exe_base_follows_go_filepath_base(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.ExeBase}}'\n    cmdline: ['.*']\n");
	struct proc trailing = process("x", "/usr/bin/", NULL, NULL);
	struct proc empty = process("x", "", NULL, NULL);
	assert_string_equal(group_of(&trailing), "bin");
	assert_string_equal(group_of(&empty), ".");
}

static void username_is_the_uid_when_the_user_has_no_name(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Username}}'\n    comm: [bash]\n");
	struct proc p = bash();
	p.id.user = NULL;
	assert_string_equal(group_of(&p), "1000");
}

static void a_missing_capture_names_the_group_no_value(void **state)
{
	(void)state;
	load("process_names:\n  - name: 'java:{{.Matches.jar}}'\n    comm: [java]\n");
	struct proc p = process("java", "java", NULL, NULL);
	assert_string_equal(group_of(&p), "java:<no value>");
}

static void trim_markers_work_in_names(void **state)
{
	(void)state;
	load("process_names:\n  - name: \"svc  {{- .Comm -}}  x\"\n    comm: [bash]\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "svcbashx");
}

static void an_empty_name_is_unnamed(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Unit}}'\n    comm: [bash]\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "unnamed");
}

static void a_name_is_cut_at_255_bytes(void **state)
{
	(void)state;
	char arg[400];
	memset(arg, 'a', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	load("process_names:\n  - name: '{{.Matches.all}}'\n    cmdline: ['(?P<all>.+)']\n");
	struct proc p = process("a", arg, NULL, NULL);
	assert_int_equal(strlen(group_of(&p)), 255);
	assert_int_equal(name.len, 255);
}

static void a_cut_name_keeps_whole_utf8_characters(void **state)
{
	(void)state;
	char arg[320] = "a";
	for (int i = 0; i < 100; i++)
		strcat(arg, "\xe2\x82\xac"); /* 1 + 3 * 100 bytes: the cut falls inside a '€' */
	load("process_names:\n  - name: '{{.ExeFull}}'\n    cmdline: ['.']\n");
	struct proc p = process("a", arg, NULL, NULL);
	assert_int_equal(strlen(group_of(&p)), 253);
}

/* ---- defaults and settings ---- */

/* A kernel thread: a child of kthreadd without a command line. */
static struct proc kernel_thread(const char *comm)
{
	struct proc p = process(comm, NULL, NULL, NULL);
	p.id.ppid = 2;
	return p;
}

static void the_default_config_groups_every_process_by_comm(void **state)
{
	(void)state;
	config = groups_config_default();
	struct proc p = bash(), orphan = process("kthreadd", NULL, NULL, NULL);
	p.id.ppid = 1;
	assert_string_equal(group_of(&p), "bash");
	/* No command line, but neither kthreadd (pid 2) nor its child: not a kernel thread. */
	assert_string_equal(group_of(&orphan), "kthreadd");
}

static void the_default_config_puts_kernel_threads_in_one_group(void **state)
{
	(void)state;
	config = groups_config_default();
	struct proc kthreadd = process("kthreadd", NULL, NULL, NULL);
	kthreadd.id.pid = 2;
	kthreadd.id.ppid = 0;
	struct proc worker = kernel_thread("kworker/0:0-mm_"), rcu = kernel_thread("rcu_preempt");
	assert_string_equal(group_of(&kthreadd), "kernel");
	assert_string_equal(group_of(&worker), "kernel");
	assert_string_equal(group_of(&rcu), "kernel");
}

static void a_child_of_pid_2_with_a_command_line_is_not_a_kernel_thread(void **state)
{
	(void)state;
	/* In a pid namespace, pid 2 may be an ordinary process with children of its own. */
	config = groups_config_default();
	struct proc p = bash();
	p.id.ppid = 2;
	assert_string_equal(group_of(&p), "bash");
}

static void a_file_without_process_names_uses_the_default_groups(void **state)
{
	(void)state;
	load("processes:\n  group_limit: 10\n");
	struct proc k = kernel_thread("kworker/1:2"), p = bash();
	assert_string_equal(group_of(&k), "kernel");
	assert_string_equal(group_of(&p), "bash");
}

static void process_names_of_a_file_leave_kernel_threads_to_its_entries(void **state)
{
	(void)state;
	load("process_names:\n  - name: '{{.Comm}}'\n    comm: [kworker/1:2]\n");
	struct proc k = kernel_thread("kworker/1:2"), other = kernel_thread("ksoftirqd/0");
	assert_string_equal(group_of(&k), "kworker/1:2");
	assert_null(group_of(&other));
}

static void an_empty_cmdline_entry_groups_kernel_threads_in_a_file(void **state)
{
	(void)state;
	/* What docs/configuration.md suggests for a file of one's own. */
	load("process_names:\n  - name: kernel\n    cmdline: ['^$']\n"
	     "  - name: '{{.Comm}}'\n    cmdline: ['.+']\n");
	struct proc k = kernel_thread("kworker/1:2"), p = bash();
	assert_string_equal(group_of(&k), "kernel");
	assert_string_equal(group_of(&p), "bash");
}

static void an_empty_file_uses_the_default_groups(void **state)
{
	(void)state;
	load("# nothing but a comment\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "bash");
}

static void a_null_process_names_uses_the_default_groups(void **state)
{
	(void)state;
	load("process_names:\n  # every entry commented out\n");
	struct proc p = bash();
	assert_string_equal(group_of(&p), "bash");
}

static void an_empty_process_names_list_means_no_groups(void **state)
{
	(void)state;
	load("process_names: []\n");
	struct proc p = bash();
	assert_int_equal(groups_config_entries(config), 0);
	assert_null(group_of(&p));
}

static void settings_have_defaults(void **state)
{
	(void)state;
	load("");
	const struct groups_settings *s = groups_config_settings(config);
	assert_int_equal(s->per_process_limit, 100);
	assert_int_equal(s->group_limit, 1000);
	assert_int_equal(s->group_expiry_seconds, 300);
	assert_int_equal(s->thread_limit, 1000);
	assert_true(s->children);
}

static void settings_are_read(void **state)
{
	(void)state;
	load("processes:\n  per_process_limit: 5\n  group_limit: 20\n  group_expiry: 2m\n  "
	     "children: false\n  thread_limit: 7\n");
	const struct groups_settings *s = groups_config_settings(config);
	assert_int_equal(s->thread_limit, 7);
	assert_int_equal(s->per_process_limit, 5);
	assert_int_equal(s->group_limit, 20);
	assert_int_equal(s->group_expiry_seconds, 120);
	assert_false(s->children);
}

static void group_expiry_takes_seconds_and_suffixes(void **state)
{
	(void)state;
	const char *forms[][2] = {{"90", "90"}, {"90s", "90"}, {"5m", "300"}, {"1h", "3600"}};
	for (size_t i = 0; i < 4; i++) {
		char text[64];
		snprintf(text, sizeof(text), "processes: {group_expiry: %s}\n", forms[i][0]);
		load(text);
		assert_int_equal(groups_config_settings(config)->group_expiry_seconds,
		                 atoi(forms[i][1]));
	}
}

static void entries_inherit_children_from_the_settings(void **state)
{
	(void)state;
	load("process_names:\n  - comm: [bash]\nprocesses:\n  children: false\n");
	struct proc p = bash();
	group_of(&p);
	assert_false(match.children);
}

static void an_entry_can_override_children_and_ask_for_per_process(void **state)
{
	(void)state;
	load("processes: {children: false}\nprocess_names:\n  - comm: [bash]\n    children: true\n"
	     "    per_process: true\n");
	struct proc p = bash();
	group_of(&p);
	assert_true(match.children);
	assert_true(match.per_process);
}

static void an_entry_asks_for_threads_and_wait_channels_only_when_it_says_so(void **state)
{
	(void)state;
	load("process_names:\n  - comm: [bash]\n    threads: true\n    wchan: true\n"
	     "  - comm: [sh]\n");
	struct proc p = bash();
	group_of(&p);
	assert_true(match.threads);
	assert_true(match.wchan);
	p = process("sh", "/bin/sh", NULL, NULL);
	group_of(&p);
	assert_false(match.threads);
	assert_false(match.wchan);
}

static void the_same_text_makes_the_same_config(void **state)
{
	(void)state;
	struct groups_config *a, *b, *c;
	assert_int_equal(
	    groups_config_parse("a", readme_example, strlen(readme_example), &a, err, sizeof(err)),
	    0);
	assert_int_equal(
	    groups_config_parse("b", readme_example, strlen(readme_example), &b, err, sizeof(err)),
	    0);
	assert_int_equal(groups_config_parse("c", "", 0, &c, err, sizeof(err)), 0);
	assert_true(groups_config_same(a, b));
	assert_false(groups_config_same(a, c));
	groups_config_free(a);
	groups_config_free(b);
	groups_config_free(c);
}

/* ---- errors: FILE:LINE:COLUMN: what ---- */

static void unknown_top_level_key_is_an_error_at_the_key(void **state)
{
	(void)state;
	assert_string_equal(
	    load_error("processes: {}\ncollectors: {}\n"),
	    "t.yml:2:1: unknown key 'collectors' (expected process_names, processes or bpf)");
}

static void unknown_entry_key_is_an_error_at_the_key(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: [a]\n    cmdlin: [x]\n");
	assert_non_null(strstr(e, "t.yml:3:5: unknown key 'cmdlin' in a process_names entry"));
}

static void unknown_processes_key_is_an_error_at_the_key(void **state)
{
	(void)state;
	const char *e = load_error("processes:\n  group_limt: 3\n");
	assert_non_null(strstr(e, "t.yml:2:3: unknown key processes.group_limt"));
}

/* ---- the bpf mapping ---- */

static void bpf_defaults_time_no_syscall_and_count_the_ungrouped(void **state)
{
	(void)state;
	load("process_names:\n  - comm: [a]\n");
	const struct groups_bpf *b = groups_config_bpf(config);
	assert_int_equal(b->programs, (1u << GROUPS_BPF_PROGRAMS) - 1);
	assert_string_equal(b->ungrouped, "ungrouped");
	assert_int_equal(b->nsyscalls, 0);
	struct groups_config *d = groups_config_default();
	assert_int_equal(groups_config_bpf(d)->nsyscalls, 0);
	groups_config_free(d);
	assert_int_equal(groups_syscall_number("read"), 0); /* x86_64 and arm64 alike */
	assert_true(groups_syscall_number("fsync") > 0);
	assert_int_equal(groups_syscall_number("no_such_call"), -1);
}

static void bpf_settings_are_read(void **state)
{
	(void)state;
	load("bpf:\n  programs: [scheduler, syscalls]\n  syscalls: [openat, futex]\n"
	     "  ungrouped: other\n");
	const struct groups_bpf *b = groups_config_bpf(config);
	assert_int_equal(b->programs, (1u << 0) | (1u << 2));
	assert_int_equal(b->nsyscalls, 2);
	assert_string_equal(b->syscalls[1], "futex");
	assert_true(b->syscall_nrs[1] >= 0);
	assert_int_equal(b->syscall_nrs[1], groups_syscall_number("futex"));
	assert_string_equal(b->ungrouped, "other");
	load("bpf:\n  ungrouped: false\n");
	assert_null(groups_config_bpf(config)->ungrouped);
}

static void bpf_errors_point_at_the_value(void **state)
{
	(void)state;
	assert_string_equal(load_error("bpf:\n  programs: [scheduler, schedular]\n"),
	                    "t.yml:2:25: unknown bpf program 'schedular' (expected scheduler, "
	                    "block_io, syscalls, oom_kills, tcp_retransmits, packet_drops, "
	                    "process_events or task_iter)");
	assert_string_equal(load_error("bpf:\n  syscalls: [read, no_such_call]\n"),
	                    "t.yml:2:20: unknown syscall 'no_such_call' on this architecture");
	assert_string_equal(load_error("bpf:\n  syscalls: [read, read]\n"),
	                    "t.yml:2:20: syscall 'read' is listed twice");
	assert_non_null(strstr(load_error("bpf:\n  syscalls: [read, write, openat, close, fsync, "
	                                  "fdatasync, connect, accept4, sendto, recvfrom, "
	                                  "futex, poll, ppoll, select, pread64, pwrite64, "
	                                  "readv]\n"),
	                       "at most 16 can be timed"));
	assert_string_equal(load_error("bpf:\n  ungrouped: ''\n"),
	                    "t.yml:2:14: bpf.ungrouped must be a group name, or false to leave out "
	                    "the processes outside every group");
	assert_non_null(strstr(load_error("bpf:\n  syscall: [read]\n"),
	                       "t.yml:2:3: unknown key bpf.syscall (expected programs, syscalls or "
	                       "ungrouped)"));
	assert_non_null(strstr(load_error("bpf: [read]\n"), "bpf must be a mapping"));
}

static void a_repeated_key_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: [a]\n    comm: [b]\n");
	assert_string_equal(e, "t.yml:3:5: comm is given twice");
}

static void an_entry_without_matchers_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - name: lonely\n");
	assert_non_null(strstr(e, "t.yml:2:5: no matchers"));
}

static void a_single_value_where_a_list_belongs_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: bash\n");
	assert_string_equal(e, "t.yml:2:11: comm must be a list, not a single value: write comm: "
	                       "['bash']");
}

static void an_empty_list_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: []\n");
	assert_non_null(strstr(e, "t.yml:2:11: comm is an empty list"));
}

static void process_names_must_be_a_list(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  comm: [bash]\n");
	assert_non_null(strstr(e, "t.yml:2:3: process_names must be a list"));
}

static void a_regex_error_gives_position_message_and_offset(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - cmdline:\n    - 'ok'\n    - 'a(b'\n");
	assert_string_equal(e, "t.yml:4:7: cmdline regex does not compile: missing closing "
	                       "parenthesis (at offset 3 of the pattern)");
}

static void a_cgroup_regex_error_is_reported_too(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - cgroup: ['[z-a]']\n");
	assert_non_null(strstr(e, "t.yml:2:14: cgroup regex does not compile: "));
}

static void a_template_error_gives_position_message_and_offset(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - name: 'x{{.Nme}}'\n    comm: [a]\n");
	assert_non_null(strstr(e, "t.yml:2:11: name template: unknown field .Nme"));
	assert_non_null(strstr(e, "(at offset 3 of the template)"));
}

static void errors_are_reported_in_file_order(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: x\nprocesses:\n  bad: 1\n");
	assert_non_null(strstr(e, "t.yml:2:11: comm must be a list"));
}

static void a_boolean_must_be_true_or_false(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: [a]\n    per_process: yes\n");
	assert_string_equal(e, "t.yml:3:18: per_process must be true or false (got 'yes')");
}

static void group_limit_must_be_at_least_one(void **state)
{
	(void)state;
	const char *e = load_error("processes:\n  group_limit: 0\n");
	assert_non_null(strstr(e, "t.yml:2:16: group_limit must be a whole number from 1 to"));
}

static void a_negative_limit_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("processes:\n  per_process_limit: -1\n");
	assert_non_null(strstr(e, "t.yml:2:22: per_process_limit must be a whole number"));
}

static void a_bad_duration_says_what_is_allowed(void **state)
{
	(void)state;
	const char *e = load_error("processes:\n  group_expiry: 5 minutes\n");
	assert_non_null(strstr(e, "t.yml:2:17: group_expiry must be a whole number of seconds, "
	                          "or one followed by s, m or h"));
}

static void a_huge_duration_is_an_error(void **state)
{
	(void)state;
	load_error("processes:\n  group_expiry: 99999999h\n");
	assert_non_null(strstr(err, "group_expiry"));
}

static void aliases_are_an_error(void **state)
{
	(void)state;
	const char *e = load_error("x: &a [bash]\nprocess_names:\n  - comm: *a\n");
	assert_non_null(strstr(e, "t.yml:3:11: aliases"));
}

static void a_nul_in_a_value_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("process_names:\n  - comm: [\"a\\0b\"]\n");
	assert_non_null(strstr(e, "t.yml:2:12: "));
	assert_non_null(strstr(e, "NUL"));
}

static void a_top_level_list_is_an_error(void **state)
{
	(void)state;
	const char *e = load_error("- comm: [bash]\n");
	assert_non_null(strstr(e, "t.yml:1:1: the top level must be a mapping"));
}

static void garbage_is_an_error_with_a_position(void **state)
{
	(void)state;
	const char *e = load_error("process_names: [\x01\x02 }}}\n");
	assert_non_null(strstr(e, "t.yml:1:"));
}

static void a_catastrophic_regex_does_not_match_instead_of_hanging(void **state)
{
	(void)state;
	char arg[4096];
	memset(arg, 'a', sizeof(arg) - 2);
	arg[sizeof(arg) - 2] = '!';
	arg[sizeof(arg) - 1] = '\0';
	load("process_names:\n  - name: slow\n    cmdline: ['^(a|aa)+$']\n");
	struct proc p = process("a", arg, NULL, NULL);
	assert_null(group_of(&p));
}

/* Without a budget over all starting positions this takes half a minute, and then matches. */
static void a_quadratic_regex_on_a_long_command_line_gives_up_and_does_not_match(void **state)
{
	(void)state;
	static char arg[64 * 1024];
	memset(arg, 'a', sizeof(arg) - 1);
	load("process_names:\n  - name: slow\n    cmdline: ['(.*&)*z?$']\n");
	struct proc p = process("a", arg, NULL, NULL);
	assert_null(group_of(&p));
}

static void a_linear_regex_on_a_long_command_line_matches(void **state)
{
	(void)state;
	static char arg[1024 * 1024];
	memset(arg, 'a', sizeof(arg) - 1);
	load("process_names:\n  - name: java\n    cmdline: ['^.*java.*-jar', '-cp a+ -jar$']\n");
	struct proc p = process("java", "java", arg, "-jar");
	p.argv[1] = "-cp";
	p.argv[2] = arg;
	p.argv[3] = "-jar";
	p.id.argc = 4;
	assert_string_equal(group_of(&p), "java");
}

static void a_file_larger_than_1_mib_is_an_error(void **state)
{
	(void)state;
	char path[] = "/tmp/kobs-groups-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static char block[4096];
	memset(block, '#', sizeof(block));
	for (int i = 0; i < 257; i++)
		assert_int_equal(write(fd, block, sizeof(block)), sizeof(block));
	close(fd);
	assert_int_equal(groups_config_load(path, &config, err, sizeof(err)), -1);
	unlink(path);
	assert_non_null(strstr(err, "larger than 1 MiB"));
}

static void a_file_loads_like_its_text(void **state)
{
	(void)state;
	char path[] = "/tmp/kobs-groups-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, readme_example, strlen(readme_example)),
	                 (ssize_t)strlen(readme_example));
	close(fd);
	int rc = groups_config_load(path, &config, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(groups_config_entries(config), 3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(readme_example_groups_by_comm),
	    T(readme_example_groups_by_exe_base_name),
	    T(readme_example_names_the_group_with_a_cmdline_capture),
	    T(readme_example_leaves_other_processes_ungrouped),
	    T(comm_matches_any_listed_name_exactly),
	    T(exe_without_slash_matches_the_base_name_of_argv0),
	    T(exe_with_slash_must_equal_argv0),
	    T(exe_never_matches_a_process_without_argv),
	    T(cmdline_regexes_must_all_match),
	    T(cmdline_is_matched_on_argv_joined_with_spaces),
	    T(cmdline_matches_argv_with_invalid_utf8),
	    T(a_capture_keeps_invalid_utf8),
	    T(each_invalid_byte_is_one_character_as_in_go),
	    T(kernel_threads_match_cmdline_on_an_empty_line),
	    T(a_later_capture_overwrites_an_earlier_one_of_the_same_name),
	    T(a_capture_that_took_no_part_is_empty),
	    T(cgroup_regexes_match_any),
	    T(cgroup_captures_feed_matches),
	    T(cgroup_never_matches_a_process_without_cgroup),
	    T(unit_matches_a_glob),
	    T(unit_never_matches_a_process_without_unit),
	    T(user_matches_a_name),
	    T(user_of_digits_matches_the_uid),
	    T(every_matcher_of_an_entry_must_match),
	    T(the_first_matching_entry_wins),
	    T(every_template_field_expands),
	    T(exe_fields_are_the_comm_of_a_process_without_argv),
	    T(exe_base_follows_go_filepath_base),
	    T(username_is_the_uid_when_the_user_has_no_name),
	    T(a_missing_capture_names_the_group_no_value),
	    T(trim_markers_work_in_names),
	    T(an_empty_name_is_unnamed),
	    T(a_name_is_cut_at_255_bytes),
	    T(a_cut_name_keeps_whole_utf8_characters),
	    T(the_default_config_groups_every_process_by_comm),
	    T(the_default_config_puts_kernel_threads_in_one_group),
	    T(a_child_of_pid_2_with_a_command_line_is_not_a_kernel_thread),
	    T(process_names_of_a_file_leave_kernel_threads_to_its_entries),
	    T(an_empty_cmdline_entry_groups_kernel_threads_in_a_file),
	    T(a_file_without_process_names_uses_the_default_groups),
	    T(an_empty_file_uses_the_default_groups),
	    T(a_null_process_names_uses_the_default_groups),
	    T(an_empty_process_names_list_means_no_groups),
	    T(settings_have_defaults),
	    T(settings_are_read),
	    T(group_expiry_takes_seconds_and_suffixes),
	    T(entries_inherit_children_from_the_settings),
	    T(an_entry_can_override_children_and_ask_for_per_process),
	    T(an_entry_asks_for_threads_and_wait_channels_only_when_it_says_so),
	    T(the_same_text_makes_the_same_config),
	    T(unknown_top_level_key_is_an_error_at_the_key),
	    T(unknown_entry_key_is_an_error_at_the_key),
	    T(unknown_processes_key_is_an_error_at_the_key),
	    T(bpf_defaults_time_no_syscall_and_count_the_ungrouped),
	    T(bpf_settings_are_read),
	    T(bpf_errors_point_at_the_value),
	    T(a_repeated_key_is_an_error),
	    T(an_entry_without_matchers_is_an_error),
	    T(a_single_value_where_a_list_belongs_is_an_error),
	    T(an_empty_list_is_an_error),
	    T(process_names_must_be_a_list),
	    T(a_regex_error_gives_position_message_and_offset),
	    T(a_cgroup_regex_error_is_reported_too),
	    T(a_template_error_gives_position_message_and_offset),
	    T(errors_are_reported_in_file_order),
	    T(a_boolean_must_be_true_or_false),
	    T(group_limit_must_be_at_least_one),
	    T(a_negative_limit_is_an_error),
	    T(a_bad_duration_says_what_is_allowed),
	    T(a_huge_duration_is_an_error),
	    T(aliases_are_an_error),
	    T(a_nul_in_a_value_is_an_error),
	    T(a_top_level_list_is_an_error),
	    T(garbage_is_an_error_with_a_position),
	    T(a_catastrophic_regex_does_not_match_instead_of_hanging),
	    T(a_quadratic_regex_on_a_long_command_line_gives_up_and_does_not_match),
	    T(a_linear_regex_on_a_long_command_line_matches),
	    T(a_file_larger_than_1_mib_is_an_error),
	    T(a_file_loads_like_its_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
