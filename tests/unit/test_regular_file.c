#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regular_file.h"

static char dir[64];
static char file[96], fifo[96], link_to_fifo[96];

static int make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kobs-file-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link_to_fifo, sizeof(link_to_fifo), "%s/link", dir);
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(file);
	unlink(fifo);
	unlink(link_to_fifo);
	return rmdir(dir);
}

static void put(const char *text, size_t len)
{
	FILE *f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void whole_file_is_read_nul_bytes_and_all(void **state)
{
	(void)state;
	char err[256];
	size_t len = 0;
	put("a\0b\n", 4);
	char *data = regular_file_read(file, 100, &len, err, sizeof(err));
	assert_non_null(data);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "a\0b\n", 5); /* and a NUL after it */
	free(data);
}

static void file_of_exactly_the_limit_is_read(void **state)
{
	(void)state;
	char err[256];
	size_t len = 0;
	put("0123456789", 10);
	char *data = regular_file_read(file, 10, &len, err, sizeof(err));
	assert_non_null(data);
	assert_int_equal(len, 10);
	free(data);
}

static void file_over_the_limit_is_refused(void **state)
{
	(void)state;
	char err[256], want[256];
	size_t len;
	put("0123456789", 10);
	assert_null(regular_file_read(file, 9, &len, err, sizeof(err)));
	snprintf(want, sizeof(want),
	         "%s: is 10 bytes, larger than 9 bytes; is this the right file?", file);
	assert_string_equal(err, want);
}

/* /proc files say they are empty and then give more: the same as a file that grows between
 * fstat and read. */
static void file_that_grows_past_the_limit_while_read_is_refused(void **state)
{
	(void)state;
	char err[256];
	size_t len;
	assert_null(regular_file_read("/proc/self/status", 64, &len, err, sizeof(err)));
	assert_string_equal(err, "/proc/self/status: grew larger than 64 bytes while it was read");
}

/* Opening a FIFO for reading waits for a writer; the alarm turns that hang into a failure. */
static void fifo_is_refused_at_once(void **state)
{
	(void)state;
	char err[256], want[256];
	size_t len;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_null(regular_file_read(fifo, 100, &len, err, sizeof(err)));
	alarm(0);
	snprintf(want, sizeof(want), "%s: is a named pipe (FIFO), not a regular file", fifo);
	assert_string_equal(err, want);
}

static void symlink_to_a_fifo_is_refused_at_once(void **state)
{
	(void)state;
	char err[256], want[256];
	size_t len;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(fifo, link_to_fifo), 0);
	alarm(10);
	assert_null(regular_file_read(link_to_fifo, 100, &len, err, sizeof(err)));
	alarm(0);
	snprintf(want, sizeof(want), "%s: is a named pipe (FIFO), not a regular file",
	         link_to_fifo);
	assert_string_equal(err, want);
}

static void symlink_to_a_regular_file_is_followed(void **state)
{
	(void)state;
	char err[256];
	size_t len;
	put("x: 1\n", 5);
	assert_int_equal(symlink(file, link_to_fifo), 0);
	char *data = regular_file_read(link_to_fifo, 100, &len, err, sizeof(err));
	assert_non_null(data);
	assert_string_equal(data, "x: 1\n");
	free(data);
}

static void endless_device_is_refused_without_reading_it(void **state)
{
	(void)state;
	char err[256];
	size_t len;
	alarm(10);
	assert_null(regular_file_read("/dev/zero", 100, &len, err, sizeof(err)));
	alarm(0);
	assert_string_equal(err, "/dev/zero: is a character device, not a regular file");
}

static void directory_is_refused(void **state)
{
	(void)state;
	char err[256], want[256];
	size_t len;
	assert_null(regular_file_read(dir, 100, &len, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: is a directory, not a regular file", dir);
	assert_string_equal(err, want);
}

static void missing_file_says_so(void **state)
{
	(void)state;
	char err[256], want[256];
	size_t len;
	assert_null(regular_file_read(file, 100, &len, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: No such file or directory", file);
	assert_string_equal(err, want);
}

/* Root reads any file, so the reading is done by a child that is nobody (uid 65534). */
static void unreadable_file_says_which_user_needs_to_read_it(void **state)
{
	(void)state;
	put("x: 1\n", 5);
	assert_int_equal(chmod(file, 0600), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256] = "";
		size_t len;
		if (geteuid() == 0 ? setuid(65534) < 0 : chmod(file, 0) < 0)
			_exit(2);
		char *data = regular_file_read(file, 100, &len, err, sizeof(err));
		int refused = data == NULL;
		free(data);
		if (write(pipefd[1], err, strlen(err) + 1) < 0)
			_exit(2);
		_exit(refused ? 0 : 1);
	}
	close(pipefd[1]);
	char err[256] = "";
	ssize_t got = read(pipefd[0], err, sizeof(err) - 1);
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(got > 0);
	char want[256];
	snprintf(want, sizeof(want), "%s: Permission denied (kobsd runs as user ", file);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "make the file, and the directories above it, readable"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(whole_file_is_read_nul_bytes_and_all, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(file_of_exactly_the_limit_is_read, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(file_over_the_limit_is_refused, make_dir, remove_dir),
	    cmocka_unit_test(file_that_grows_past_the_limit_while_read_is_refused),
	    cmocka_unit_test_setup_teardown(fifo_is_refused_at_once, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(symlink_to_a_fifo_is_refused_at_once, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(symlink_to_a_regular_file_is_followed, make_dir,
	                                    remove_dir),
	    cmocka_unit_test(endless_device_is_refused_without_reading_it),
	    cmocka_unit_test_setup_teardown(directory_is_refused, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(missing_file_says_so, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(unreadable_file_says_which_user_needs_to_read_it,
	                                    make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
