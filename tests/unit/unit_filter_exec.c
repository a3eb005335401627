/* unit_filter_exec PROGRAM [ARGS...]: run PROGRAM under the part of kobsd.service's system call
 * filter (SystemCallFilter=@system-service, ~@privileged) that matters to the daemon's own
 * privilege drop: seccomp() and capset() fail with EPERM, as systemd makes them. kobsd must
 * still install its filter (libseccomp then loads it through prctl) and must not need capset
 * when it holds no capability. tests/integration/privileges.sh uses it. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: unit_filter_exec PROGRAM [ARGS...]\n");
		return 64;
	}
	/* (The architecture is not checked: the test runs native programs only.) */
	struct sock_filter filter[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_capset, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("unit_filter_exec: installing the filter");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("unit_filter_exec: exec");
	return 1;
}
