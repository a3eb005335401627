/* --run-as and the privilege drop: which user a root daemon becomes, what it keeps. The drop
 * itself runs in forked children, as root only (CI runs as root). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "privileges.h"

static void numeric_run_as_takes_a_uid_and_an_optional_gid(void **state)
{
	(void)state;
	uid_t uid;
	gid_t gid;
	bool has_gid;
	assert_int_equal(run_as_parse_ids("65534", &uid, &gid, &has_gid), 1);
	assert_int_equal(uid, 65534);
	assert_false(has_gid);
	assert_int_equal(run_as_parse_ids("1000:2000", &uid, &gid, &has_gid), 1);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 2000);
	assert_true(has_gid);
}

static void a_name_is_not_numeric(void **state)
{
	(void)state;
	uid_t uid;
	gid_t gid;
	bool has_gid;
	assert_int_equal(run_as_parse_ids("nobody", &uid, &gid, &has_gid), 0);
	assert_int_equal(run_as_parse_ids("kobsd2", &uid, &gid, &has_gid), 0);
}

static void malformed_or_out_of_range_numbers_are_rejected(void **state)
{
	(void)state;
	uid_t uid;
	gid_t gid;
	bool has_gid;
	assert_int_equal(run_as_parse_ids("1000:", &uid, &gid, &has_gid), -1);
	assert_int_equal(run_as_parse_ids(":1000", &uid, &gid, &has_gid), -1);
	assert_int_equal(run_as_parse_ids("1:2:3", &uid, &gid, &has_gid), -1);
	/* (uid_t)-1 means "leave unchanged" to setresuid */
	assert_int_equal(run_as_parse_ids("4294967295", &uid, &gid, &has_gid), -1);
	assert_int_equal(run_as_parse_ids("99999999999", &uid, &gid, &has_gid), -1);
}

static void a_user_name_resolves_to_its_uid_and_primary_group(void **state)
{
	(void)state;
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		skip();
	struct run_as u;
	char err[512];
	assert_int_equal(run_as_resolve("nobody", &u, err, sizeof(err)), 0);
	assert_string_equal(u.name, "nobody");
	assert_int_equal(u.uid, pw->pw_uid);
	assert_int_equal(u.gid, pw->pw_gid);
}

static void the_default_is_kobsd_or_else_nobody(void **state)
{
	(void)state;
	const char *want = getpwnam("kobsd") ? "kobsd" : getpwnam("nobody") ? "nobody" : NULL;
	if (!want)
		skip();
	struct run_as u;
	char err[512];
	assert_int_equal(run_as_resolve(NULL, &u, err, sizeof(err)), 0);
	assert_string_equal(u.name, want);
}

static void an_unknown_user_is_an_error_naming_it(void **state)
{
	(void)state;
	struct run_as u;
	char err[512];
	assert_int_equal(run_as_resolve("no-such-user-kobs", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-user-kobs"));
	assert_non_null(strstr(err, "UID:GID"));
}

static void uid_and_gid_need_no_passwd_entry(void **state)
{
	(void)state;
	struct run_as u;
	char err[512];
	assert_int_equal(run_as_resolve("4000000:4000001", &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 4000000);
	assert_int_equal(u.gid, 4000001);
}

static void root_is_refused(void **state)
{
	(void)state;
	struct run_as u;
	char err[512];
	assert_int_equal(run_as_resolve("root", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "root"));
	assert_int_equal(run_as_resolve("0", &u, err, sizeof(err)), -1);
	assert_int_equal(run_as_resolve("1000:0", &u, err, sizeof(err)), -1);
}

static void capability_names_are_listed_in_order(void **state)
{
	(void)state;
	char out[256];
	caps_names(privileges_read_other_users(), out, sizeof(out));
	assert_string_equal(out, "CAP_DAC_READ_SEARCH CAP_SYS_PTRACE");
	caps_names(0, out, sizeof(out));
	assert_string_equal(out, "none");
}

static void the_description_says_user_capabilities_and_filter(void **state)
{
	(void)state;
	struct privileges p = {.uid = 65534, .gid = 65534, .no_new_privs = true, .seccomp = 70};
	snprintf(p.user, sizeof(p.user), "nobody");
	char out[512];
	privileges_describe(&p, out, sizeof(out));
	assert_string_equal(out, "running as nobody (uid 65534, gid 65534); no capabilities; "
	                         "no_new_privs; seccomp filter on (70 system calls allowed)");
	p.kept = privileges_read_other_users();
	p.seccomp = 0;
	snprintf(p.seccomp_why, sizeof(p.seccomp_why), "--no-sandbox.seccomp");
	privileges_describe(&p, out, sizeof(out));
	assert_non_null(strstr(out, "capabilities CAP_DAC_READ_SEARCH CAP_SYS_PTRACE kept"));
	assert_non_null(strstr(out, "seccomp filter off (--no-sandbox.seccomp)"));
}

/* ---- the drop, as root, in a child ---- */

#define CHILD_OK    0
#define CHILD_DROP  10 /* privileges_drop failed */
#define CHILD_WRONG 11 /* what is left is not what was asked for */

static bool in_set(const char *status_line, uint64_t want)
{
	unsigned long long v;
	return sscanf(status_line, "%*s %llx", &v) == 1 && v == want;
}

/* The credentials in /proc/self/status, against what the drop should leave. */
static bool status_shows(uid_t uid, uint64_t caps)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	char line[256];
	int good = 0;
	char want_uid[64];
	snprintf(want_uid, sizeof(want_uid), "Uid:\t%u\t%u\t%u\t%u\n", (unsigned)uid, (unsigned)uid,
	         (unsigned)uid, (unsigned)uid);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Uid:", 4) == 0)
			good += strcmp(line, want_uid) == 0;
		else if (strncmp(line, "CapEff:", 7) == 0 || strncmp(line, "CapPrm:", 7) == 0)
			good += in_set(line, caps);
		else if (strncmp(line, "CapInh:", 7) == 0 || strncmp(line, "CapAmb:", 7) == 0)
			good += in_set(line, 0);
		else if (strncmp(line, "CapBnd:", 7) == 0)
			good += in_set(line, caps);
		else if (strncmp(line, "NoNewPrivs:", 11) == 0)
			good += strcmp(line, "NoNewPrivs:\t1\n") == 0;
		else if (strncmp(line, "Groups:", 7) == 0)
			good += strspn(line + 7, " \t\n") == strlen(line + 7);
	}
	fclose(f);
	return good == 8;
}

static int drop_in_child(bool read_other_users)
{
	struct run_as user;
	char err[512];
	if (run_as_resolve("nobody", &user, err, sizeof(err)) < 0)
		return CHILD_DROP;
	struct privileges_request req = {
	    .started_as_root = true,
	    .user = &user,
	    .read_other_users = read_other_users,
	    .seccomp = false,
	};
	struct privileges p;
	if (privileges_drop(&req, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "privileges_drop: %s\n", err);
		return CHILD_DROP;
	}
	uint64_t want = read_other_users ? privileges_read_other_users() : 0;
	if (!p.switched || p.kept != want || p.missing)
		return CHILD_WRONG;
	return status_shows(user.uid, want) ? CHILD_OK : CHILD_WRONG;
}

static int run_child(bool read_other_users)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(drop_in_child(read_other_users));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void root_becomes_nobody_with_no_capability_at_all(void **state)
{
	(void)state;
	if (geteuid() != 0 || !getpwnam("nobody"))
		skip();
	assert_int_equal(run_child(false), CHILD_OK);
}

static void read_other_users_keeps_exactly_two_capabilities(void **state)
{
	(void)state;
	if (geteuid() != 0 || !getpwnam("nobody"))
		skip();
	assert_int_equal(run_child(true), CHILD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(numeric_run_as_takes_a_uid_and_an_optional_gid),
	    cmocka_unit_test(a_name_is_not_numeric),
	    cmocka_unit_test(malformed_or_out_of_range_numbers_are_rejected),
	    cmocka_unit_test(a_user_name_resolves_to_its_uid_and_primary_group),
	    cmocka_unit_test(the_default_is_kobsd_or_else_nobody),
	    cmocka_unit_test(an_unknown_user_is_an_error_naming_it),
	    cmocka_unit_test(uid_and_gid_need_no_passwd_entry),
	    cmocka_unit_test(root_is_refused),
	    cmocka_unit_test(capability_names_are_listed_in_order),
	    cmocka_unit_test(the_description_says_user_capabilities_and_filter),
	    cmocka_unit_test(root_becomes_nobody_with_no_capability_at_all),
	    cmocka_unit_test(read_other_users_keeps_exactly_two_capabilities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
