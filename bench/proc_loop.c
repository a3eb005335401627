/* The baseline of bench/processes_cost.sh: the cheapest honest way to read, for every process,
 * the /proc files the processes collector reads. For each numeric directory of /proc it reads
 * stat, status, io, schedstat and limits (open, read, close into one reused buffer) and counts
 * the open fds. It parses only as far as needed to pick a few numbers, which it sums and prints
 * so that the compiler cannot drop the reads. No allocation after start, no libraries.
 *
 *   cc -O2 -o proc_loop bench/proc_loop.c && ./proc_loop -n 30
 *
 * Prints one line: "passes=N processes=P cpu_seconds=S checksum=C", where processes is the count
 * of the last pass and cpu_seconds the user + system time of all passes (getrusage). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[64 * 1024];

/* Read a whole file into buf (NUL-terminated); its length, or -1 when it cannot be read. */
static ssize_t read_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The decimal number that follows `key` in buf, or 0. */
static uint64_t number_after(const char *key)
{
	const char *p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Since Linux 6.2, st_size of /proc/PID/fd is the number of open fds; before, it is 0. */
static uint64_t count_fds(int dirfd)
{
	struct stat st;
	if (fstatat(dirfd, "fd", &st, 0) == 0 && st.st_size > 0)
		return (uint64_t)st.st_size;
	int fd = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	uint64_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static uint64_t one_process(int dirfd)
{
	uint64_t sum = 0;
	if (read_file(dirfd, "stat") > 0) {
		/* utime and stime are the 12th and 13th fields after the ")" that ends comm. */
		const char *p = strrchr(buf, ')');
		for (int field = 0; p && field < 12; field++)
			p = strchr(p + 1, ' ');
		if (p) {
			char *end;
			sum += strtoull(p + 1, &end, 10);
			sum += strtoull(end, NULL, 10);
		}
	}
	if (read_file(dirfd, "status") > 0)
		sum += number_after("\nVmRSS:") + number_after("\nvoluntary_ctxt_switches:");
	if (read_file(dirfd, "io") > 0)
		sum += number_after("rchar: ") + number_after("\nread_bytes: ");
	if (read_file(dirfd, "schedstat") > 0)
		sum += strtoull(buf, NULL, 10);
	if (read_file(dirfd, "limits") > 0)
		sum += number_after("\nMax open files");
	return sum + count_fds(dirfd);
}

int main(int argc, char **argv)
{
	long passes = 1;
	int opt;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (passes = strtol(optarg, NULL, 10)) < 1) {
			fprintf(stderr, "usage: %s [-n PASSES]\n", argv[0]);
			return 2;
		}
	}
	uint64_t checksum = 0;
	long processes = 0;
	for (long pass = 0; pass < passes; pass++) {
		DIR *proc = opendir("/proc");
		if (!proc) {
			perror("/proc");
			return 1;
		}
		processes = 0;
		for (struct dirent *e; (e = readdir(proc));) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			int pid_dir =
			    openat(dirfd(proc), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (pid_dir < 0)
				continue; /* exited meanwhile */
			checksum += one_process(pid_dir);
			close(pid_dir);
			processes++;
		}
		closedir(proc);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("passes=%ld processes=%ld cpu_seconds=%.6f checksum=%llu\n", passes, processes, cpu,
	       (unsigned long long)checksum);
	return 0;
}
