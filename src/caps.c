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

/* The names of capabilities 0 to 40 (Linux 5.9), for the log and the landing page. */
static const char *const names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

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

static uint64_t join(uint32_t low, uint32_t high)
{
	return (uint64_t)high << 32 | low;
}

uint64_t caps_permitted(void)
{
	struct __user_cap_data_struct d[2];
	if (get(d) != 0)
		return 0;
	return join(d[0].permitted, d[1].permitted);
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

static uint64_t bounding_set(int last)
{
	uint64_t set = 0;
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			set |= CAPS_BIT(c);
	return set;
}

int caps_limit_bounding(uint64_t keep, char *note, size_t note_len)
{
	int last = last_cap();
	for (int c = 0; c <= last; c++)
		if (!(keep & CAPS_BIT(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	uint64_t left = bounding_set(last) & ~keep;
	note[0] = '\0';
	if (!left)
		return 0;
	char what[512];
	caps_names(left, what, sizeof(what));
	snprintf(
	    note, note_len,
	    "the bounding set keeps %s (no CAP_SETPCAP to drop them, as under systemd's "
	    "CapabilityBoundingSet=); with the permitted set empty of them and no_new_privs set, "
	    "they cannot be gained again",
	    what);
	return 1;
}

int caps_limit(uint64_t keep, uint64_t *kept, char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];
	if (get(d) != 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	uint64_t permitted = join(d[0].permitted, d[1].permitted);
	uint64_t effective = join(d[0].effective, d[1].effective);
	uint64_t inheritable = join(d[0].inheritable, d[1].inheritable);
	uint64_t want = permitted & keep;
	/* Ambient capabilities need a permitted and inheritable twin: with the inheritable set
	 * empty, none stays. Cleared explicitly anyway, for the record. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (permitted != want || effective != want || inheritable != 0) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct set[2] = {
		    {.effective = (uint32_t)want, .permitted = (uint32_t)want},
		    {.effective = (uint32_t)(want >> 32), .permitted = (uint32_t)(want >> 32)},
		};
		if (syscall(SYS_capset, &h, set) != 0) {
			snprintf(err, errlen, "capset: %s", strerror(errno));
			return -1;
		}
	}
	if (get(d) != 0 || join(d[0].permitted, d[1].permitted) != want ||
	    join(d[0].effective, d[1].effective) != want || d[0].inheritable || d[1].inheritable) {
		snprintf(err, errlen, "capabilities beyond those asked for are left after capset");
		return -1;
	}
	*kept = want;
	return 0;
}

void caps_names(uint64_t caps, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	if (!caps) {
		snprintf(out, len, "none");
		return;
	}
	for (int c = 0; c < 64; c++) {
		if (!(caps & CAPS_BIT(c)) || used >= len)
			continue;
		int n;
		if (c < (int)(sizeof(names) / sizeof(names[0])))
			n = snprintf(out + used, len - used, "%s%s", used ? " " : "", names[c]);
		else
			n = snprintf(out + used, len - used, "%scapability %d", used ? " " : "", c);
		used += n > 0 ? (size_t)n : 0;
	}
}
