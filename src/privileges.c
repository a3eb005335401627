#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "caps.h"
#include "sandbox.h"

#define DEFAULT_USER  "kobsd"
#define FALLBACK_USER "nobody"

static int parse_id(const char *s, size_t len, unsigned long *out)
{
	if (len == 0 || len > 10)
		return -1;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	/* (uid_t)-1 means "unchanged" to setresuid. */
	if (v >= 0xffffffffUL)
		return -1;
	*out = v;
	return 0;
}

int run_as_parse_ids(const char *spec, uid_t *uid, gid_t *gid, bool *has_gid)
{
	size_t len = strlen(spec);
	if (len == 0 || strspn(spec, "0123456789:") != len)
		return 0;
	const char *colon = strchr(spec, ':');
	unsigned long u, g = 0;
	if (parse_id(spec, colon ? (size_t)(colon - spec) : len, &u) < 0)
		return -1;
	if (colon && parse_id(colon + 1, strlen(colon + 1), &g) < 0)
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	*has_gid = colon != NULL;
	return 1;
}

/* Look a user up by name (or uid, when `name` is NULL). Returns 1 when found, 0 when not, -1 on
 * a lookup error (errno). */
static int lookup(const char *name, uid_t uid, struct run_as *out)
{
	char buf[16384];
	struct passwd pw, *found = NULL;
	int rc = name ? getpwnam_r(name, &pw, buf, sizeof(buf), &found)
	              : getpwuid_r(uid, &pw, buf, sizeof(buf), &found);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	if (!found)
		return 0;
	snprintf(out->name, sizeof(out->name), "%s", pw.pw_name);
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	return 1;
}

static int refuse_root(const struct run_as *u, const char *spec, char *err, size_t errlen)
{
	if (u->uid != 0 && u->gid != 0)
		return 0;
	snprintf(err, errlen,
	         "--run-as=%s is %s 0: kobsd does not serve as root; name an unprivileged user",
	         spec, u->uid == 0 ? "uid" : "in group");
	return -1;
}

int run_as_resolve(const char *spec, struct run_as *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!spec) {
		int rc = lookup(DEFAULT_USER, 0, out);
		if (rc == 0)
			rc = lookup(FALLBACK_USER, 0, out);
		if (rc <= 0) {
			snprintf(
			    err, errlen,
			    "started as root, kobsd serves as user %s, or %s when there is none, "
			    "and the passwd database has neither%s%s: create the user (make "
			    "install does, with systemd-sysusers) or pass --run-as=USER or "
			    "--run-as=UID:GID",
			    DEFAULT_USER, FALLBACK_USER, rc < 0 ? ": " : "",
			    rc < 0 ? strerror(errno) : "");
			return -1;
		}
		return refuse_root(out, out->name, err, errlen);
	}
	uid_t uid;
	gid_t gid;
	bool has_gid;
	int numeric = run_as_parse_ids(spec, &uid, &gid, &has_gid);
	if (numeric < 0) {
		snprintf(err, errlen, "--run-as=%s: give a user name, a uid, or UID:GID", spec);
		return -1;
	}
	int rc = lookup(numeric ? NULL : spec, uid, out);
	if (rc < 0) {
		snprintf(err, errlen, "--run-as=%s: looking the user up failed: %s", spec,
		         strerror(errno));
		return -1;
	}
	if (rc == 0 && !(numeric && has_gid)) {
		snprintf(err, errlen,
		         "--run-as=%s: no such user in the passwd database (getent passwd %s); "
		         "create it, or give numbers as --run-as=UID:GID",
		         spec, spec);
		return -1;
	}
	if (rc == 0)
		snprintf(out->name, sizeof(out->name), "%s", spec);
	if (numeric) {
		out->uid = uid;
		if (has_gid)
			out->gid = gid;
	}
	return refuse_root(out, spec, err, errlen);
}

uint64_t privileges_read_other_users(void)
{
	return CAPS_BIT(CAP_SYS_PTRACE) | CAPS_BIT(CAP_DAC_READ_SEARCH);
}

/* Why a switch failed, and what to do: a uid 0 without CAP_SETUID or CAP_SETGID is a container
 * or a unit that took them away. */
static void switch_failed(const char *what, const char *call, char *err, size_t errlen)
{
	int e = errno;
	snprintf(err, errlen, "cannot switch to %s (%s: %s)%s", what, call, strerror(e),
	         e == EPERM ? ": started as root without CAP_SETUID and CAP_SETGID; grant both "
	                      "(they are dropped once the switch is made), or start kobsd as the "
	                      "user it should serve as"
	                    : "");
}

/* Become `u`: no supplementary groups, then the group, then the user (after which setting
 * groups is no longer allowed). Checked afterwards: all three uids and gids must have changed. */
static int switch_user(const struct run_as *u, char *err, size_t errlen)
{
	char what[128];
	if (getgroups(0, NULL) != 0 && setgroups(0, NULL) != 0) {
		switch_failed("no supplementary groups", "setgroups", err, errlen);
		return -1;
	}
	snprintf(what, sizeof(what), "group %u", (unsigned)u->gid);
	if (setresgid(u->gid, u->gid, u->gid) != 0) {
		switch_failed(what, "setresgid", err, errlen);
		return -1;
	}
	snprintf(what, sizeof(what), "user %s (uid %u)", u->name, (unsigned)u->uid);
	if (setresuid(u->uid, u->uid, u->uid) != 0) {
		switch_failed(what, "setresuid", err, errlen);
		return -1;
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) != 0 || r != u->uid || e != u->uid || s != u->uid ||
	    getresgid(&rg, &eg, &sg) != 0 || rg != u->gid || eg != u->gid || sg != u->gid ||
	    getgroups(0, NULL) != 0) {
		snprintf(err, errlen, "the switch to user %s did not take", u->name);
		return -1;
	}
	return 0;
}

int privileges_drop(const struct privileges_request *req, struct privileges *out, char *err,
                    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	uint64_t keep = req->read_other_users ? privileges_read_other_users() : 0;
	caps_limit_bounding(keep, out->bounding_note, sizeof(out->bounding_note));

	if (req->started_as_root) {
		/* Without PR_SET_KEEPCAPS the switch away from uid 0 empties the permitted set. */
		if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
			snprintf(err, errlen, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
			return -1;
		}
		int rc = switch_user(req->user, err, errlen);
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (rc < 0)
			return -1;
		out->switched = true;
		snprintf(out->user, sizeof(out->user), "%s", req->user->name);
	} else {
		struct run_as me;
		if (lookup(NULL, geteuid(), &me) != 1)
			snprintf(me.name, sizeof(me.name), "uid %u", (unsigned)geteuid());
		snprintf(out->user, sizeof(out->user), "%s", me.name);
	}
	out->uid = geteuid();
	out->gid = getegid();

	if (caps_limit(keep, &out->kept, err, errlen) < 0)
		return -1;
	out->missing = keep & ~out->kept;

	/* Not dumpable: after a switch from root the kernel has done it already; otherwise another
	 * process of the same user could trace the daemon and use its descriptors (the BPF maps,
	 * the listening sockets) and read its memory (TLS keys). The sanitizer build stays
	 * dumpable: LeakSanitizer traces the daemon's own threads at exit. */
	prctl(PR_SET_DUMPABLE, SANDBOX_FOR_SANITIZERS ? 1 : 0, 0, 0, 0);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	out->no_new_privs = true;

	if (!req->seccomp) {
		snprintf(out->seccomp_why, sizeof(out->seccomp_why), "--no-sandbox.seccomp");
		return 0;
	}
	int n = sandbox_install(out->seccomp_why, sizeof(out->seccomp_why));
	if (n > 0)
		out->seccomp = n;
	return 0;
}

void privileges_describe(const struct privileges *p, char *out, size_t len)
{
	char caps[256];
	caps_names(p->kept, caps, sizeof(caps));
	char filter[200];
	if (p->seccomp)
		snprintf(filter, sizeof(filter), "seccomp filter on (%d system calls allowed)",
		         p->seccomp);
	else
		snprintf(filter, sizeof(filter), "seccomp filter off (%s)", p->seccomp_why);
	snprintf(out, len, "running as %s (uid %u, gid %u); %s%s%s; %s; %s", p->user,
	         (unsigned)p->uid, (unsigned)p->gid, p->kept ? "capabilities " : "",
	         p->kept ? caps : "no capabilities",
	         p->kept ? " kept for --processes.read-other-users" : "",
	         p->no_new_privs ? "no_new_privs" : "new privileges allowed", filter);
}
