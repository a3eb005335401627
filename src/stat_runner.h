/* statvfs with a deadline. A mount whose server is gone (a dead NFS server, a FUSE daemon that
 * stopped answering) blocks statvfs in the kernel for minutes or for ever, and no signal or
 * timeout can interrupt it. So the call runs in a helper thread while the caller waits at most
 * the deadline; a call that overruns leaves its thread behind, stuck, and the caller goes on.
 *
 * - One helper thread serves calls one after another. When a call overruns, that thread is
 *   abandoned to it (detached: nobody ever waits for it) and the next call starts a new one.
 * - At most `max_stuck` abandoned threads may still be stuck at once; past that no new thread is
 *   started and calls are refused (STAT_NO_THREAD) until one of them returns.
 * - The caller keeps the overrun call (a struct stat_call) and asks each scrape whether it has
 *   finished: until it has, the mount is stale and is not tried again.
 * - stat_runner_free() stops the idle helper and waits for it (it is never stuck), but never
 *   waits for a stuck one: that thread frees what it holds if its call ever returns, and is
 *   ended with the process otherwise. Its memory stays reachable from its stack, so leak
 *   checkers do not report it.
 *
 * Threads are started only by stat_runner_run, on the collecting thread: they inherit its
 * credentials, blocked signals and system call filter (the daemon starts no thread before it has
 * dropped its privileges). */
#ifndef KOBS_STAT_RUNNER_H
#define KOBS_STAT_RUNNER_H

#include <stdbool.h>
#include <sys/statvfs.h>

/* The call to make: statvfs(2), or a stand-in in the tests. Returns 0, or -1 with errno set. */
typedef int (*stat_fn)(const char *path, struct statvfs *out);

struct stat_runner;
struct stat_call;

enum stat_outcome {
	STAT_DONE,      /* the call returned: *out and *err (0 or its errno) are set */
	STAT_TIMED_OUT, /* still running past the deadline: *overrun is the call */
	STAT_NO_THREAD, /* not run: max_stuck threads are stuck, or no thread could start */
};

struct stat_runner *stat_runner_new(stat_fn fn, unsigned max_stuck);
void stat_runner_free(struct stat_runner *r);

/* Run the call on `path`, waiting at most `timeout` seconds. On STAT_TIMED_OUT the caller owns a
 * reference to *overrun and must release it with stat_call_release. */
enum stat_outcome stat_runner_run(struct stat_runner *r, const char *path, double timeout,
                                  struct statvfs *out, int *err, struct stat_call **overrun);

/* Abandoned threads whose call has not returned yet. */
unsigned stat_runner_stuck(struct stat_runner *r);

/* Whether an overrun call has returned since (its thread is then gone or going). */
bool stat_call_finished(const struct stat_call *c);
void stat_call_release(struct stat_call *c);

#endif
