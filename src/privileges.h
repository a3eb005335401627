/* Least privilege: once the sockets are bound and the BPF programs attached, and before any
 * thread starts, the daemon gives up what serving does not need. Started as root it becomes an
 * unprivileged user (--run-as); in every mode it drops every capability (but the two that
 * --processes.read-other-users keeps), sets no_new_privs, and installs the system call filter
 * (sandbox.h). */
#ifndef KOBS_PRIVILEGES_H
#define KOBS_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The user a daemon started as root serves as. */
struct run_as {
	char name[64]; /* the user's name, or the numbers given when the passwd database has none */
	uid_t uid;
	gid_t gid;
};

/* Parse a --run-as value that is numeric: "UID" or "UID:GID". Returns 1 with `*has_gid` set,
 * 0 when `spec` is not of that form (a user name, then), or -1 when it is numeric but out of
 * range. */
int run_as_parse_ids(const char *spec, uid_t *uid, gid_t *gid, bool *has_gid);

/* Find the user: `spec` is a name, a uid, or UID:GID (for images with no passwd entry); NULL
 * means kobsd, or nobody when there is no user kobsd. A name or a lone uid takes the user's
 * primary group. Root (uid or gid 0) is refused. Returns 0, or -1 with what to do in `err`. */
int run_as_resolve(const char *spec, struct run_as *out, char *err, size_t errlen);

struct privileges_request {
	bool started_as_root; /* switch to `user` */
	const struct run_as *user;
	bool read_other_users; /* keep CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH */
	bool seccomp;          /* install the filter */
};

/* What the daemon serves with, for the log and the landing page. */
struct privileges {
	bool switched; /* the user was changed */
	char user[64]; /* the user it serves as */
	uid_t uid;
	gid_t gid;
	uint64_t kept;    /* capabilities left in the permitted and effective sets */
	uint64_t missing; /* asked for by --processes.read-other-users, but never held */
	bool no_new_privs;
	int seccomp;             /* system calls the filter allows; 0: no filter */
	char seccomp_why[160];   /* why there is no filter */
	char bounding_note[400]; /* what the bounding set keeps, when it could not be emptied */
};

/* The capabilities --processes.read-other-users keeps. */
uint64_t privileges_read_other_users(void);

/* Give up the privileges. Returns 0, or -1 with the reason in `err` when the daemon would go on
 * with more than asked for (a user switch or a capability drop failed): it must not serve
 * then. The filter is defence in depth: when it cannot be installed, `out` says why and 0 is
 * returned. */
int privileges_drop(const struct privileges_request *req, struct privileges *out, char *err,
                    size_t errlen);

/* One line: "running as nobody (uid 65534, gid 65534); no capabilities; no_new_privs; seccomp
 * filter on (70 system calls allowed)". */
void privileges_describe(const struct privileges *p, char *out, size_t len);

#endif
