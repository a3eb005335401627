/* The "sockstat" collector: sockets in use by protocol, TCP orphans and time-wait sockets, and the
 * memory TCP, UDP and IP reassembly hold, from /proc/net/sockstat and sockstat6 (the reader's
 * network namespace, like /proc/net/dev). node_exporter serves the same figures as
 * node_sockstat_<PROTO>_<key>; here the protocol is a label. */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "host_parse.h"
#include "procfs.h"
#include "xalloc.h"

#define FILE_LIMIT (64u << 10)

enum sock_unit {
	SOCK_COUNT,
	SOCK_PAGES, /* TCP and UDP "mem" */
	SOCK_BYTES, /* FRAG "memory" */
};

struct sock_sample {
	bool v6; /* from sockstat6 */
	const char *group;
	const char *key;
	const char *protocol; /* label, or NULL */
	enum sock_unit unit;
};

struct sock_metric {
	const char *name;
	const char *unit;
	const char *help;
	size_t nsamples;
	struct sock_sample s[10];
};

static const struct sock_metric sock_metrics[] = {
    {"kobs_sockstat_sockets_used",
     NULL,
     "Sockets of every kind in use (sockstat \"sockets: used\").",
     1,
     {{false, "sockets", "used", NULL, SOCK_COUNT}}},
    {"kobs_sockstat_in_use",
     NULL,
     "Sockets in use by protocol; for frag and frag6, IP packets being reassembled (sockstat "
     "\"inuse\").",
     10,
     {{false, "TCP", "inuse", "tcp", SOCK_COUNT},
      {false, "UDP", "inuse", "udp", SOCK_COUNT},
      {false, "UDPLITE", "inuse", "udplite", SOCK_COUNT},
      {false, "RAW", "inuse", "raw", SOCK_COUNT},
      {false, "FRAG", "inuse", "frag", SOCK_COUNT},
      {true, "TCP6", "inuse", "tcp6", SOCK_COUNT},
      {true, "UDP6", "inuse", "udp6", SOCK_COUNT},
      {true, "UDPLITE6", "inuse", "udplite6", SOCK_COUNT},
      {true, "RAW6", "inuse", "raw6", SOCK_COUNT},
      {true, "FRAG6", "inuse", "frag6", SOCK_COUNT}}},
    {"kobs_sockstat_tcp_orphans",
     NULL,
     "TCP sockets no process holds any more, still closing (sockstat TCP \"orphan\"); the "
     "kernel resets them past net.ipv4.tcp_max_orphans.",
     1,
     {{false, "TCP", "orphan", NULL, SOCK_COUNT}}},
    {"kobs_sockstat_tcp_time_wait",
     NULL,
     "TCP sockets in TIME_WAIT (sockstat TCP \"tw\").",
     1,
     {{false, "TCP", "tw", NULL, SOCK_COUNT}}},
    {"kobs_sockstat_tcp_allocated",
     NULL,
     "TCP sockets allocated, in any state (sockstat TCP \"alloc\").",
     1,
     {{false, "TCP", "alloc", NULL, SOCK_COUNT}}},
    {"kobs_sockstat_memory_bytes",
     "bytes",
     "Memory the protocol's sockets or reassembly queues hold (sockstat \"mem\" in pages for tcp "
     "and udp, \"memory\" in bytes for frag); compare with net.ipv4.tcp_mem and udp_mem.",
     4,
     {{false, "TCP", "mem", "tcp", SOCK_PAGES},
      {false, "UDP", "mem", "udp", SOCK_PAGES},
      {false, "FRAG", "memory", "frag", SOCK_BYTES},
      {true, "FRAG6", "memory", "frag6", SOCK_BYTES}}},
};
#define NMETRICS (sizeof(sock_metrics) / sizeof(sock_metrics[0]))

struct sockstat_state {
	struct buf file;
	double page_size;
	struct group_field fields[2][16]; /* [v6] */
	size_t nfields[2];
	size_t index[NMETRICS][10];
	bool read[2];
};

static void read_file(struct sockstat_state *st, const struct collector_env *env, int v6)
{
	const char *file = v6 ? "net/sockstat6" : "net/sockstat";
	st->read[v6] = false;
	if (procfs_read(env->procfs, file, &st->file, FILE_LIMIT) < 0) {
		if (!v6 || errno != ENOENT) /* no sockstat6 without IPv6 */
			read_errors_count(env->read_errors, file, read_error_from_errno(errno));
		return;
	}
	if (parse_sockstat(st->file.data, st->file.len, st->fields[v6], st->nfields[v6]) < 0) {
		read_errors_count(env->read_errors, file, READ_ERROR_PARSE);
		return;
	}
	st->read[v6] = true;
}

static int sockstat_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct sockstat_state *st = state;
	read_file(st, env, 0);
	read_file(st, env, 1);
	for (size_t m = 0; m < NMETRICS; m++) {
		const struct sock_metric *sm = &sock_metrics[m];
		bool started = false;
		for (size_t k = 0; k < sm->nsamples; k++) {
			const struct sock_sample *s = &sm->s[k];
			const struct group_field *f = &st->fields[s->v6][st->index[m][k]];
			if (!st->read[s->v6] || !f->found)
				continue;
			if (!started)
				expo_family(out, sm->name, METRIC_GAUGE, sm->unit, sm->help);
			started = true;
			double scale = s->unit == SOCK_PAGES ? st->page_size : 1;
			struct label protocol = {"protocol", s->protocol};
			expo_sample(out, &protocol, protocol.value ? 1 : 0,
			            (double)f->value * scale);
		}
	}
	return st->read[0] ? 0 : -1;
}

static void sockstat_destroy(void *state)
{
	struct sockstat_state *st = state;
	if (!st)
		return;
	buf_free(&st->file);
	free(st);
}

static int sockstat_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct sockstat_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	long page = sysconf(_SC_PAGESIZE);
	st->page_size = page > 0 ? (double)page : 4096;
	for (size_t m = 0; m < NMETRICS; m++) {
		for (size_t k = 0; k < sock_metrics[m].nsamples; k++) {
			const struct sock_sample *s = &sock_metrics[m].s[k];
			size_t i = st->nfields[s->v6]++;
			st->index[m][k] = i;
			st->fields[s->v6][i].group = s->group;
			st->fields[s->v6][i].key = s->key;
		}
	}
	if (procfs_read_at_start(env->procfs, "net/sockstat", &st->file, FILE_LIMIT, why, why_len) <
	    0) {
		sockstat_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

const struct collector_ops collector_sockstat = {
    .name = "sockstat",
    .description = "Sockets in use, TCP orphans and time-wait, socket memory from "
                   "/proc/net/sockstat",
    .default_enabled = true,
    .init = sockstat_init,
    .collect = sockstat_collect,
    .destroy = sockstat_destroy,
};
