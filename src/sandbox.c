#include "sandbox.h"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_SECCOMP
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

/* Allowed whatever their arguments, by group (names separated by spaces). A name this
 * architecture lacks (open, stat, poll... on arm64) is skipped; the daemon then uses the *at or
 * p* form, which is listed too. */
static const char *const allowed[] = {
    /* memory: malloc, thread stacks, libbpf's ring buffer mapping */
    "brk mmap munmap mremap mprotect madvise",
    /* reading files: /proc, /sys, the configuration on SIGHUP, /etc/passwd through NSS */
    "read pread64 readv lseek close fstat newfstatat stat lstat statx statfs fstatfs getdents64 "
    "getdents readlink readlinkat access faccessat faccessat2 fcntl dup",
    /* writing to descriptors the daemon holds: stderr, sockets, pipes */
    "write writev",
    /* HTTP: libmicrohttpd's epoll loop and its inter-thread channel; the watchdog's self-check;
     * sd_notify and the journal (AF_UNIX datagrams, a memfd for a large entry) */
    "accept accept4 connect shutdown sendto sendmsg recvfrom recvmsg setsockopt getsockopt "
    "getsockname getpeername epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2 poll "
    "ppoll eventfd2 pipe2 memfd_create",
    /* threads and their synchronisation */
    "futex set_robust_list get_robust_list rseq set_tid_address sched_yield sched_getaffinity "
    "exit exit_group restart_syscall",
    /* signals: the main thread waits for SIGHUP and SIGTERM with sigtimedwait */
    "rt_sigprocmask rt_sigaction rt_sigreturn rt_sigtimedwait sigaltstack",
    /* time, randomness (GnuTLS), identity, limits; adjtimex and clock_adjtime (glibc's adjtimex)
     * for the time collector, which only reads (modes 0): setting the clock needs CAP_SYS_TIME,
     * which the daemon never has */
    "clock_gettime clock_getres clock_nanosleep gettimeofday nanosleep time adjtimex "
    "clock_adjtime getrandom getpid "
    "gettid getuid geteuid getgid getegid getresuid getresgid getgroups capget prlimit64 "
    "getrlimit getrusage uname sysinfo",
#if SANDBOX_FOR_SANITIZERS
    /* LeakSanitizer at exit: a tracer that shares our memory stops every thread with ptrace
     * (after prctl(PR_SET_PTRACER) and PR_SET_PDEATHSIG) */
    "ptrace wait4 getppid prctl",
#endif
};

/* Killed: only injected code would make these calls (see sandbox.h). */
static const char *const killed[] = {
    "execve execveat fork vfork process_vm_writev process_vm_readv",
#if !SANDBOX_FOR_SANITIZERS
    "ptrace",
#endif
};

/* bpf() on descriptors the daemon already holds: map reads and updates, the task iterator, and
 * object information (libbpf's ring buffer). Loading or attaching anything is refused. */
static const unsigned bpf_commands[] = {
    BPF_MAP_LOOKUP_ELEM,
    BPF_MAP_UPDATE_ELEM,
    BPF_MAP_DELETE_ELEM,
    BPF_MAP_GET_NEXT_KEY,
    BPF_MAP_LOOKUP_AND_DELETE_ELEM,
    BPF_MAP_LOOKUP_BATCH,
    BPF_MAP_LOOKUP_AND_DELETE_BATCH,
    BPF_MAP_UPDATE_BATCH,
    BPF_MAP_DELETE_BATCH,
    BPF_OBJ_GET_INFO_BY_FD,
    BPF_ITER_CREATE,
};

/* ioctl(): isatty() (stdio, libsystemd's line reader) and a socket's pending bytes. */
static const unsigned long ioctl_requests[] = {TCGETS, FIONREAD, FIONBIO};

/* prctl(): naming threads (libmicrohttpd) and reading its own state. */
static const int prctl_options[] = {PR_SET_NAME,    PR_GET_NAME,         PR_GET_DUMPABLE,
                                    PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS, PR_CAPBSET_READ};

/* Sockets: the HTTP server's own (IPv4, IPv6), and AF_UNIX for sd_notify, the journal and NSS. */
static const int socket_domains[] = {AF_UNIX, AF_INET, AF_INET6};

/* Files are opened for reading only: the daemon never creates or writes a file. */
#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

/* Add one rule; `count`, when given, is raised for a call this architecture has. */
static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned nargs,
               const struct scmp_arg_cmp *args, int *count)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown to this libseccomp: nothing to allow or kill */
	int rc = seccomp_rule_add_array(ctx, action, nr, nargs, args);
	if (rc == 0 && count && nr >= 0)
		(*count)++;
	return rc;
}

/* Add a rule without conditions for each name in `names` (separated by spaces). */
static int add_each(scmp_filter_ctx ctx, uint32_t action, const char *names, int *count,
                    char *failed, size_t failed_len)
{
	int rc = 0;
	for (const char *p = names; rc == 0 && *p;) {
		size_t len = strcspn(p, " ");
		snprintf(failed, failed_len, "%.*s", (int)len, p);
		rc = add(ctx, action, failed, 0, NULL, count);
		p += len;
		p += strspn(p, " ");
	}
	return rc;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t kill, int *count, char *failed,
                     size_t failed_len)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = add_each(ctx, SCMP_ACT_ALLOW, allowed[i], count, failed, failed_len);
	for (size_t i = 0; rc == 0 && i < sizeof(killed) / sizeof(killed[0]); i++)
		rc = add_each(ctx, kill, killed[i], NULL, failed, failed_len);

	struct scmp_arg_cmp arg;
	snprintf(failed, failed_len, "bpf");
	for (size_t i = 0; rc == 0 && i < sizeof(bpf_commands) / sizeof(bpf_commands[0]); i++) {
		arg = SCMP_A0(SCMP_CMP_EQ, bpf_commands[i]);
		rc = add(ctx, SCMP_ACT_ALLOW, "bpf", 1, &arg, i == 0 ? count : NULL);
	}
	snprintf(failed, failed_len, "ioctl");
	for (size_t i = 0; rc == 0 && i < sizeof(ioctl_requests) / sizeof(ioctl_requests[0]); i++) {
		arg = SCMP_A1(SCMP_CMP_EQ, ioctl_requests[i]);
		rc = add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &arg, i == 0 ? count : NULL);
	}
	snprintf(failed, failed_len, "prctl");
	for (size_t i = 0; rc == 0 && i < sizeof(prctl_options) / sizeof(prctl_options[0]); i++) {
		arg = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctl_options[i]);
		rc = add(ctx, SCMP_ACT_ALLOW, "prctl", 1, &arg, i == 0 ? count : NULL);
	}
	snprintf(failed, failed_len, "socket");
	for (size_t i = 0; rc == 0 && i < sizeof(socket_domains) / sizeof(socket_domains[0]); i++) {
		arg = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)socket_domains[i]);
		rc = add(ctx, SCMP_ACT_ALLOW, "socket", 1, &arg, i == 0 ? count : NULL);
	}
	snprintf(failed, failed_len, "openat");
	if (rc == 0) {
		arg = SCMP_A2(SCMP_CMP_MASKED_EQ, WRITE_FLAGS, 0);
		rc = add(ctx, SCMP_ACT_ALLOW, "openat", 1, &arg, count);
	}
	snprintf(failed, failed_len, "open");
	if (rc == 0) {
		arg = SCMP_A1(SCMP_CMP_MASKED_EQ, WRITE_FLAGS, 0);
		rc = add(ctx, SCMP_ACT_ALLOW, "open", 1, &arg, count);
	}
	/* Signals only to itself: abort() and raise() use tgkill. */
	snprintf(failed, failed_len, "tgkill");
	if (rc == 0) {
		arg = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
		rc = add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &arg, count);
	}
	/* Threads, not processes. (On x86-64, arm64 and most others the flags come first.) */
	snprintf(failed, failed_len, "clone");
	if (rc == 0) {
		arg = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
		rc = add(ctx, SCMP_ACT_ALLOW, "clone", 1, &arg, count);
	}
	if (rc == 0) {
		arg = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
		rc = add(ctx, SANDBOX_FOR_SANITIZERS ? SCMP_ACT_ALLOW : kill, "clone", 1, &arg,
		         NULL);
	}
	snprintf(failed, failed_len, "clone3");
	if (rc == 0)
		rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, NULL);
	return rc;
}

bool sandbox_built_in(void)
{
	return true;
}

int sandbox_install(char *err, size_t errlen)
{
	/* Killing the whole process needs Linux 4.14, and libseccomp must see that the kernel has
	 * it, through the seccomp() call, which systemd's @system-service filter refuses (API level
	 * 1 then). Otherwise SIGSYS: the daemon has no handler for it, so it ends the process too.
	 */
	uint32_t kill = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	int count = 0;
	char failed[32] = "";
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill);
	if (rc == 0)
		rc = add_rules(ctx, kill, &count, failed, sizeof(failed));
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot add the rule for %s: %s", failed,
		         strerror(-rc));
		goto out;
	}
	/* Not SCMP_FLTATR_CTL_TSYNC: there is no other thread yet, and synchronising would need
	 * the seccomp() call, which systemd's @system-service filter refuses; libseccomp then
	 * loads through prctl(PR_SET_SECCOMP) instead. */
	rc = seccomp_load(ctx);
	if (rc < 0)
		snprintf(err, errlen, "seccomp: the kernel refused the filter: %s", strerror(-rc));
out:
	seccomp_release(ctx);
	return rc < 0 ? -1 : count;
}

#else

bool sandbox_built_in(void)
{
	return false;
}

int sandbox_install(char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "kobsd was built without libseccomp (configure --with-seccomp=yes "
	         "needs libseccomp-dev)");
	return -1;
}

#endif
