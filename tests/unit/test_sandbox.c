/* The daemon's real system call filter, installed in a forked child: what it allows works, what
 * it forbids fails with the designed error or kills the child with SIGSYS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

/* What the child reports through its exit status. */
#define CHILD_OK         0
#define CHILD_NO_FILTER  10 /* sandbox_install failed */
#define CHILD_WRONG      11 /* the call did not behave as the filter says */
#define CHILD_NOT_KILLED 12 /* a call that should have killed returned */

/* A child that has not ended after this long is killed by SIGALRM (a hang fails the test, as
 * whatever signal ends it is not the one expected). */
#define CHILD_SECONDS 60

static bool under_valgrind(void)
{
	const char *vg = getenv("KOBS_VALGRIND");
	return vg && strcmp(vg, "1") == 0;
}

typedef int (*probe)(void);

/* Run `p` in a child under the filter; returns the child's wait status. */
static int under_filter(probe p)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_SECONDS);
		char err[256];
		if (sandbox_install(err, sizeof(err)) <= 0) {
			fprintf(stderr, "sandbox_install: %s\n", err);
			_exit(CHILD_NO_FILTER);
		}
		_exit(p());
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return status;
}

static void assert_exits(int status, int code)
{
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

/* Under valgrind (KOBS_VALGRIND=1, tests/valgrind.sh) a call killed while valgrind handles it
 * asynchronously ends valgrind on an assertion (exit 1) rather than by SIGSYS: there, that the
 * call never returned is what can be checked. */
static void assert_killed_by_sigsys(int status)
{
	if (under_valgrind() && WIFEXITED(status) && WEXITSTATUS(status) == 1)
		return;
	if (WIFEXITED(status))
		fail_msg("child exited with %d instead of being killed", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* Fails with `expected_errno` (and returns -1): CHILD_OK; anything else: CHILD_WRONG. */
static int fails_with(long rc, int expected_errno)
{
	return rc == -1 && errno == expected_errno ? CHILD_OK : CHILD_WRONG;
}

static int reads_proc_and_writes_a_pipe(void)
{
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	char buf[64];
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		return CHILD_WRONG;
	close(fd);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0 || write(p[1], "x", 1) != 1 || read(p[0], buf, 1) != 1)
		return CHILD_WRONG;
	return getpid() > 0 ? CHILD_OK : CHILD_WRONG;
}

static void reading_files_and_pipes_is_allowed(void **state)
{
	(void)state;
	assert_exits(under_filter(reads_proc_and_writes_a_pipe), CHILD_OK);
}

static int opens_tcp_and_unix_sockets(void)
{
	int a = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* A host without IPv6 says EAFNOSUPPORT, not EPERM. */
	if ((a < 0 && errno != EAFNOSUPPORT) || b < 0 || c < 0)
		return CHILD_WRONG;
	return CHILD_OK;
}

static void ip_and_unix_sockets_are_allowed(void **state)
{
	(void)state;
	assert_exits(under_filter(opens_tcp_and_unix_sockets), CHILD_OK);
}

static void *thread_main(void *arg)
{
	return arg;
}

static int starts_a_thread(void)
{
	pthread_t t;
	void *ret = NULL;
	if (pthread_create(&t, NULL, thread_main, (void *)1) != 0 || pthread_join(t, &ret) != 0)
		return CHILD_WRONG;
	return ret == (void *)1 ? CHILD_OK : CHILD_WRONG;
}

static void threads_start_through_clone_when_clone3_is_refused(void **state)
{
	(void)state;
	assert_exits(under_filter(starts_a_thread), CHILD_OK);
}

static int clone3_says_enosys(void)
{
	return fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS);
}

static void clone3_fails_with_enosys(void **state)
{
	(void)state;
	assert_exits(under_filter(clone3_says_enosys), CHILD_OK);
}

static int opens_a_file_for_writing(void)
{
	char path[] = "/tmp/kobs-sandbox-test.XXXXXX";
	/* openat with O_CREAT, which mkstemp uses */
	return fails_with(mkstemp(path), EPERM);
}

static void opening_a_file_for_writing_fails_with_eperm(void **state)
{
	(void)state;
	assert_exits(under_filter(opens_a_file_for_writing), CHILD_OK);
}

static int opens_a_packet_socket(void)
{
	return fails_with(socket(AF_PACKET, SOCK_RAW, 0), EPERM);
}

static void a_packet_socket_fails_with_eperm(void **state)
{
	(void)state;
	assert_exits(under_filter(opens_a_packet_socket), CHILD_OK);
}

static int mounts(void)
{
	return fails_with(mount("none", "/mnt", "tmpfs", 0, NULL), EPERM);
}

static void mount_fails_with_eperm(void **state)
{
	(void)state;
	assert_exits(under_filter(mounts), CHILD_OK);
}

static int loads_a_bpf_program(void)
{
	/* "return 0": a whole program, so that valgrind finds every pointer it checks valid. */
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	return fails_with(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)), EPERM);
}

static void loading_a_bpf_program_fails_with_eperm(void **state)
{
	(void)state;
	assert_exits(under_filter(loads_a_bpf_program), CHILD_OK);
}

static int looks_up_a_bpf_map(void)
{
	/* Allowed by the filter: the kernel answers, about a descriptor that is no map. */
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = 0x7fffffff;
	long rc = syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr));
	return rc == -1 && errno == EBADF ? CHILD_OK : CHILD_WRONG;
}

static void bpf_map_lookups_reach_the_kernel(void **state)
{
	(void)state;
	assert_exits(under_filter(looks_up_a_bpf_map), CHILD_OK);
}

static int runs_a_program(void)
{
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};
	execve("/bin/true", argv, envp);
	return CHILD_NOT_KILLED;
}

static void execve_kills_the_process(void **state)
{
	(void)state;
	assert_killed_by_sigsys(under_filter(runs_a_program));
}

static int forks(void)
{
	/* glibc's fork() is clone() without CLONE_THREAD. */
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0)
		_exit(CHILD_WRONG);
	return CHILD_NOT_KILLED;
}

static int traces(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return CHILD_NOT_KILLED;
}

static void *runs_a_program_in_a_thread(void *arg)
{
	(void)arg;
	runs_a_program();
	return NULL;
}

/* What kobsd.service's filter does to the two calls of the drop (see unit_filter_exec.c):
 * seccomp() and capset() fail with EPERM. libseccomp then loads through prctl, and cannot see
 * that the kernel can kill a whole process. */
static int runs_a_program_under_systemds_filter(void)
{
	struct sock_filter filter[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_capset, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
	char err[256];
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0 ||
	    sandbox_install(err, sizeof(err)) <= 0)
		return CHILD_NO_FILTER;
	/* As in the daemon, no handler for SIGSYS (cmocka installs one). From a thread of its own:
	 * the whole process must end, not that thread alone. */
	signal(SIGSYS, SIG_DFL);
	pthread_t t;
	if (pthread_create(&t, NULL, runs_a_program_in_a_thread, NULL) != 0)
		return CHILD_WRONG;
	pthread_join(t, NULL);
	return CHILD_NOT_KILLED;
}

static void execve_in_a_thread_kills_the_process_under_systemds_filter_too(void **state)
{
	(void)state;
	/* Valgrind runs a program's threads one at a time: when the filter kills the thread that
	 * called execve, valgrind's other thread spins waiting for it, and the child never ends. */
	if (under_valgrind())
		skip();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_SECONDS);
		_exit(runs_a_program_under_systemds_filter());
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	assert_killed_by_sigsys(status);
}

/* The sanitizer build lets LeakSanitizer trace the daemon's threads from a forked tracer. */
static void ptrace_kills_the_process(void **state)
{
	(void)state;
	if (SANDBOX_FOR_SANITIZERS)
		skip();
	assert_killed_by_sigsys(under_filter(traces));
}

static void fork_kills_the_process(void **state)
{
	(void)state;
	if (SANDBOX_FOR_SANITIZERS)
		skip();
	assert_killed_by_sigsys(under_filter(forks));
}

static int signals_another_process(void)
{
	return fails_with(syscall(SYS_tgkill, getppid(), getppid(), 0), EPERM);
}

static void signalling_another_process_fails_with_eperm(void **state)
{
	(void)state;
	assert_exits(under_filter(signals_another_process), CHILD_OK);
}

static int sets_no_new_privs(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? CHILD_OK : CHILD_WRONG;
}

static void installing_the_filter_sets_no_new_privs(void **state)
{
	(void)state;
	assert_exits(under_filter(sets_no_new_privs), CHILD_OK);
}

int main(void)
{
	if (!sandbox_built_in()) {
		printf("1..0 # SKIP kobsd was built without libseccomp\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reading_files_and_pipes_is_allowed),
	    cmocka_unit_test(ip_and_unix_sockets_are_allowed),
	    cmocka_unit_test(threads_start_through_clone_when_clone3_is_refused),
	    cmocka_unit_test(clone3_fails_with_enosys),
	    cmocka_unit_test(opening_a_file_for_writing_fails_with_eperm),
	    cmocka_unit_test(a_packet_socket_fails_with_eperm),
	    cmocka_unit_test(mount_fails_with_eperm),
	    cmocka_unit_test(loading_a_bpf_program_fails_with_eperm),
	    cmocka_unit_test(bpf_map_lookups_reach_the_kernel),
	    cmocka_unit_test(execve_kills_the_process),
	    cmocka_unit_test(execve_in_a_thread_kills_the_process_under_systemds_filter_too),
	    cmocka_unit_test(ptrace_kills_the_process),
	    cmocka_unit_test(fork_kills_the_process),
	    cmocka_unit_test(signalling_another_process_fails_with_eperm),
	    cmocka_unit_test(installing_the_filter_sets_no_new_privs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
