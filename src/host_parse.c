/* Parsers for the host collectors' files (contract in host_parse.h). Like procfs_parse.c, each is
 * one pass over the buffer with memchr to each line end. */
#include "host_parse.h"

#include <string.h>

#include "span.h"

/* Copy a token into a fixed buffer as a C string: refused when empty, too long, or holding a NUL
 * (C would see a shorter name, which could collide with another). */
static bool copy_name(struct span token, char *out, size_t size)
{
	size_t n = span_len(token);
	if (n == 0 || n >= size || memchr(token.p, '\0', n))
		return false;
	memcpy(out, token.p, n);
	out[n] = '\0';
	return true;
}

static bool parse_uint(struct span token, unsigned *out)
{
	uint64_t v;
	if (!span_to_u64(token, &v) || v > 0xffffffffu)
		return false;
	*out = (unsigned)v;
	return true;
}

/* ---- /proc/diskstats ---- */

static bool parse_disk_line(struct span line, struct disk_row *row)
{
	if (!parse_uint(next_token(&line), &row->major) ||
	    !parse_uint(next_token(&line), &row->minor) ||
	    !copy_name(next_token(&line), row->name, sizeof(row->name)))
		return false;
	unsigned n = 0;
	for (struct span t = next_token(&line); !span_empty(t); t = next_token(&line)) {
		uint64_t v;
		if (!span_to_u64(t, &v))
			return false;
		if (n < DISK_FIELD__COUNT)
			row->v[n] = v;
		n++;
	}
	/* The three layouts the kernel has printed since 2.6.25. */
	if (n != 11 && n != 15 && n < 17)
		return false;
	row->nfields = n < DISK_FIELD__COUNT ? n : DISK_FIELD__COUNT;
	return true;
}

int parse_diskstats(const char *buf, size_t len, disk_row_fn fn, void *arg)
{
	int rc = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct disk_row row;
		memset(&row, 0, sizeof(row));
		if (parse_disk_line(line, &row))
			fn(&row, arg);
		else
			rc = -1;
	}
	return rc;
}

/* ---- /proc/net/dev ---- */

static bool parse_netdev_line(struct span line, struct netdev_row *row)
{
	struct span name;
	/* "  eth0: 123 ..."; old kernels printed a wide number right after the colon. An interface
	 * name holds no ':' (dev_valid_name refuses it), so the first one ends the name. */
	if (!split_at(&line, ':', &name))
		return false;
	struct span trimmed = next_token(&name);
	if (!span_empty(next_token(&name)) || !copy_name(trimmed, row->name, sizeof(row->name)))
		return false;
	for (unsigned i = 0; i < NETDEV_FIELD__COUNT; i++)
		if (!span_to_u64(next_token(&line), &row->v[i]))
			return false;
	return span_empty(next_token(&line));
}

int parse_netdev(const char *buf, size_t len, netdev_row_fn fn, void *arg)
{
	int rc = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		if (memchr(line.p, '|', span_len(line)))
			continue; /* a header line */
		struct netdev_row row;
		memset(&row, 0, sizeof(row));
		if (parse_netdev_line(line, &row))
			fn(&row, arg);
		else
			rc = -1;
	}
	return rc;
}

/* ---- group tables ---- */

static void clear_fields(struct group_field *fields, size_t nfields)
{
	for (size_t i = 0; i < nfields; i++) {
		fields[i].value = 0;
		fields[i].found = false;
	}
}

static void store_field(struct group_field *fields, size_t nfields, struct span group,
                        struct span key, uint64_t value)
{
	for (size_t i = 0; i < nfields; i++) {
		struct group_field *f = &fields[i];
		if (!f->found && span_equals(group, f->group) && span_equals(key, f->key)) {
			f->value = value;
			f->found = true;
			return;
		}
	}
}

/* The "Group:" that starts a line, without its colon. */
static bool group_prefix(struct span *line, struct span *group)
{
	struct span token = next_token(line);
	if (span_len(token) < 2 || token.end[-1] != ':')
		return false;
	*group = (struct span){token.p, token.end - 1};
	return true;
}

/* A names line and the values line after it, both with the same prefix and as many columns. */
static bool parse_snmp_pair(struct span names, struct span values, struct group_field *fields,
                            size_t nfields)
{
	struct span group, group2;
	if (!group_prefix(&names, &group) || !group_prefix(&values, &group2) ||
	    span_len(group) != span_len(group2) || memcmp(group.p, group2.p, span_len(group)) != 0)
		return false;
	/* Count first: a pair whose lines differ in length is not trusted in any column. */
	struct span n = names, v = values;
	size_t columns = 0;
	for (;;) {
		bool has_name = !span_empty(next_token(&n));
		bool has_value = !span_empty(next_token(&v));
		if (has_name != has_value)
			return false;
		if (!has_name)
			break;
		columns++;
	}
	if (columns == 0)
		return false;
	for (struct span key = next_token(&names); !span_empty(key); key = next_token(&names)) {
		uint64_t value;
		if (span_to_u64(next_token(&values), &value))
			store_field(fields, nfields, group, key, value);
	}
	return true;
}

int parse_snmp(const char *buf, size_t len, struct group_field *fields, size_t nfields)
{
	clear_fields(fields, nfields);
	bool any = false;
	struct span rest = span_of(buf, len);
	struct span names, values;
	while (next_line(&rest, &names)) {
		struct span after = rest;
		if (!next_line(&after, &values))
			break;
		if (parse_snmp_pair(names, values, fields, nfields)) {
			any = true;
			rest = after;
		}
		/* Otherwise the values line may be the names line of the next pair: go on from it.
		 */
	}
	return any ? 0 : -1;
}

int parse_sockstat(const char *buf, size_t len, struct group_field *fields, size_t nfields)
{
	clear_fields(fields, nfields);
	bool any = false;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct span group;
		if (!group_prefix(&line, &group))
			continue;
		/* Check the whole line before storing any of it. */
		struct span check = line;
		size_t pairs = 0;
		bool valid = true;
		for (struct span key = next_token(&check); valid && !span_empty(key);
		     key = next_token(&check)) {
			uint64_t value;
			valid = span_to_u64(next_token(&check), &value);
			pairs++;
		}
		if (!valid || pairs == 0)
			continue;
		for (struct span key = next_token(&line); !span_empty(key);
		     key = next_token(&line)) {
			uint64_t value = 0;
			span_to_u64(next_token(&line), &value);
			store_field(fields, nfields, group, key, value);
		}
		any = true;
	}
	return any ? 0 : -1;
}

/* ---- /proc/self/mountinfo ---- */

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Undo the kernel's escapes (seq_escape: " \t\n\\" as a backslash and three octal digits) into
 * *out, NUL-terminated. A backslash not followed by three octal digits is kept as it is. Refused:
 * an empty field, an escape for a byte above 0377 or for NUL, no room left. */
static bool unescape_field(struct span field, char **out, char *limit, const char **result)
{
	char *o = *out;
	if (span_empty(field))
		return false;
	for (const char *p = field.p; p < field.end; p++) {
		char c = *p;
		if (c == '\0')
			return false;
		if (c == '\\' && field.end - p >= 4 && is_octal(p[1]) && is_octal(p[2]) &&
		    is_octal(p[3])) {
			unsigned v = (unsigned)(p[1] - '0') * 64 + (unsigned)(p[2] - '0') * 8 +
			             (unsigned)(p[3] - '0');
			if (v == 0 || v > 0xff)
				return false;
			c = (char)v;
			p += 3;
		}
		if (o >= limit)
			return false;
		*o++ = c;
	}
	if (o >= limit)
		return false;
	*o++ = '\0';
	*result = *out;
	*out = o;
	return true;
}

/* Whether the comma-separated `options` hold "ro" as a whole option. */
static bool has_ro(struct span options)
{
	struct span option;
	for (;;) {
		bool last = !split_at(&options, ',', &option);
		if (last)
			option = options;
		if (span_equals(option, "ro"))
			return true;
		if (last)
			return false;
	}
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue": mount id,
 * parent id, major:minor, root, mount point, mount options, optional fields up to "-", then the
 * filesystem type, the source and the superblock options. */
static bool parse_mount_line(struct span line, char *scratch, size_t scratch_len,
                             struct mount_row *row)
{
	uint64_t id;
	struct span dev, major;
	if (!span_to_u64(next_token(&line), &id) || !span_to_u64(next_token(&line), &id))
		return false;
	dev = next_token(&line);
	if (!split_at(&dev, ':', &major) || !parse_uint(major, &row->major) ||
	    !parse_uint(dev, &row->minor))
		return false;
	struct span root = next_token(&line);
	struct span mount_point = next_token(&line);
	struct span options = next_token(&line);
	if (span_empty(root) || span_empty(options))
		return false;
	struct span t;
	do {
		t = next_token(&line);
		if (span_empty(t))
			return false;
	} while (!span_equals(t, "-"));
	struct span fstype = next_token(&line);
	struct span source = next_token(&line);
	struct span super_options = next_token(&line);
	if (span_empty(super_options) || !span_empty(next_token(&line)))
		return false;
	char *o = scratch, *limit = scratch + scratch_len;
	if (!unescape_field(mount_point, &o, limit, &row->mount_point) ||
	    !unescape_field(fstype, &o, limit, &row->fstype) ||
	    !unescape_field(source, &o, limit, &row->source))
		return false;
	row->read_only = has_ro(options) || has_ro(super_options);
	return true;
}

int parse_mountinfo(const char *buf, size_t len, char *scratch, size_t scratch_len, mount_row_fn fn,
                    void *arg)
{
	int rc = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct mount_row row;
		memset(&row, 0, sizeof(row));
		if (parse_mount_line(line, scratch, scratch_len, &row))
			fn(&row, arg);
		else
			rc = -1;
	}
	return rc;
}
