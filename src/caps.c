#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "procfs.h"

static int last_cap(void)
{
	struct buf f;
	buf_init(&f);
	long v = -1;
	if (procfs_read("/proc", "sys/kernel/cap_last_cap", &f, 32) == 0)
		v = strtol(f.data, NULL, 10);
	buf_free(&f);
	return v > 0 && v < 64 ? (int)v : CAP_LAST_CAP;
}

static int get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	memset(d, 0, 2 * sizeof(*d));
	return (int)syscall(SYS_capget, &h, d);
}

static bool bounding_empty(void)
{
	for (int c = 0; c <= last_cap(); c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return false;
	return true;
}

bool caps_any(void)
{
	struct __user_cap_data_struct d[2];
	if (get(d) != 0)
		return false;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return true;
	return false;
}

int caps_drop_all(char *note, size_t note_len)
{
	int last = last_cap();
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};
	int rc = (int)syscall(SYS_capset, &h, d);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (rc != 0) {
		snprintf(note, note_len, "capset: %s", strerror(errno));
		return -1;
	}
	if (caps_any()) {
		snprintf(note, note_len, "capabilities are left in the effective or permitted set");
		return -1;
	}
	note[0] = '\0';
	if (!bounding_empty())
		snprintf(note, note_len,
		         "the bounding set keeps what it had (no CAP_SETPCAP to drop it, as under "
		         "systemd's CapabilityBoundingSet=); with the permitted set empty and "
		         "no-new-privileges set, nothing in it can be gained again");
	return 0;
}
