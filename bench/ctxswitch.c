/* The context-switch-heavy workload of bench/bpf_cost.sh, the same as `perf bench sched pipe`
 * (which Debian's perf wrapper refuses to run on a kernel newer than its own): two processes
 * pass a 1-byte token back and forth over two pipes, N round trips. Each round trip is two
 * writes, two reads, two wakeups and, when both processes share one CPU, two context switches;
 * nearly all its time is spent in the scheduler and the syscall paths the BPF programs hook.
 *
 *   cc -O2 -o ctxswitch bench/ctxswitch.c && ./ctxswitch -n 200000 -c 1
 *
 * -c CPU pins both processes to that CPU, so that every handoff is a context switch on one run
 * queue, not a cross-CPU wakeup whose cost depends on how deeply the other CPU went idle.
 *
 * Prints one line: "round_trips=N seconds=S ns_per_round_trip=X round_trips_per_second=R". */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "ctxswitch: %s: %s\n", what, strerror(errno));
	return 1;
}

static int pin_to_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Read one byte, write it back, until the other end closes; the child's whole life. */
static void echo_token(int in, int out)
{
	char token;
	while (read(in, &token, 1) == 1)
		if (write(out, &token, 1) != 1)
			break;
}

/* Send the token and wait for it to come back, n times; 0, or -1 when a pipe broke. */
static int ping_pong(int out, int in, long n)
{
	char token = 'x';
	for (long i = 0; i < n; i++)
		if (write(out, &token, 1) != 1 || read(in, &token, 1) != 1)
			return -1;
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = 100000;
	int cpu = -1;
	int opt;
	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		if (opt == 'n')
			n = strtol(optarg, NULL, 10);
		else if (opt == 'c')
			cpu = (int)strtol(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: %s [-n ROUND_TRIPS] [-c CPU]\n", argv[0]);
			return 64;
		}
	}
	if (n <= 0) {
		fprintf(stderr, "ctxswitch: -n must be positive\n");
		return 64;
	}
	/* Pinned before the fork, so that the child inherits the same CPU. */
	if (cpu >= 0 && pin_to_cpu(cpu) != 0)
		return fail("sched_setaffinity");

	int to_child[2], to_parent[2];
	if (pipe(to_child) != 0 || pipe(to_parent) != 0)
		return fail("pipe");
	pid_t child = fork();
	if (child < 0)
		return fail("fork");
	if (child == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		echo_token(to_child[0], to_parent[1]);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);

	/* A few round trips first, so that the child is running and both are warm when timing
	 * starts. */
	int rc = ping_pong(to_child[1], to_parent[0], 1000);
	double start = now_seconds();
	if (rc == 0)
		rc = ping_pong(to_child[1], to_parent[0], n);
	double seconds = now_seconds() - start;

	close(to_child[1]);
	int status;
	waitpid(child, &status, 0);
	if (rc != 0) {
		fprintf(stderr, "ctxswitch: a pipe broke before %ld round trips\n", n);
		return 1;
	}
	printf("round_trips=%ld seconds=%.6f ns_per_round_trip=%.1f round_trips_per_second=%.0f\n",
	       n, seconds, seconds * 1e9 / (double)n, (double)n / seconds);
	return 0;
}
