/* The "netdev" collector: traffic and error counters of each network interface from
 * /proc/net/dev, under node_exporter's names (node_network_* as kobs_network_*) and its default
 * exclusion of the loopback interface (--collector.netdev.device-exclude / -include).
 *
 * /proc/net/dev shows the interfaces of the reader's network namespace: run in the host's (a
 * container needs hostNetwork) to see the host's. An interface named twice (never by a kernel) is
 * served once, from its first row. */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "host_parse.h"
#include "name_filter.h"
#include "named_rows.h"
#include "procfs.h"
#include "xalloc.h"

/* About 150 bytes an interface: room for tens of thousands (a host with many containers has a
 * veth each). */
#define FILE_LIMIT     (8u << 20)
#define MAX_INTERFACES 16384

struct netdev_metric {
	const char *name; /* counters all, without _total */
	const char *unit;
	enum netdev_field field;
	const char *help;
};

static const struct netdev_metric netdev_metrics[] = {
    {"kobs_network_receive_bytes", "bytes", NETDEV_RX_BYTES, "Bytes received since boot."},
    {"kobs_network_receive_packets", NULL, NETDEV_RX_PACKETS, "Packets received since boot."},
    {"kobs_network_receive_errs", NULL, NETDEV_RX_ERRS,
     "Receive errors the driver reported since boot (bad frames, CRC, overruns...)."},
    {"kobs_network_receive_drop", NULL, NETDEV_RX_DROP,
     "Received packets dropped since boot for want of buffers or by the stack."},
    {"kobs_network_receive_fifo", NULL, NETDEV_RX_FIFO,
     "Receive FIFO (ring buffer) overruns since boot."},
    {"kobs_network_receive_frame", NULL, NETDEV_RX_FRAME,
     "Frames received with alignment or length errors since boot."},
    {"kobs_network_receive_compressed", NULL, NETDEV_RX_COMPRESSED,
     "Compressed packets received since boot (CSLIP, PPP)."},
    {"kobs_network_receive_multicast", NULL, NETDEV_RX_MULTICAST,
     "Multicast packets received since boot."},
    {"kobs_network_transmit_bytes", "bytes", NETDEV_TX_BYTES, "Bytes sent since boot."},
    {"kobs_network_transmit_packets", NULL, NETDEV_TX_PACKETS, "Packets sent since boot."},
    {"kobs_network_transmit_errs", NULL, NETDEV_TX_ERRS,
     "Transmit errors the driver reported since boot."},
    {"kobs_network_transmit_drop", NULL, NETDEV_TX_DROP,
     "Packets dropped on the way out since boot."},
    {"kobs_network_transmit_fifo", NULL, NETDEV_TX_FIFO,
     "Transmit FIFO (ring buffer) errors since boot."},
    {"kobs_network_transmit_colls", NULL, NETDEV_TX_COLLS,
     "Collisions seen while sending since boot."},
    {"kobs_network_transmit_carrier", NULL, NETDEV_TX_CARRIER,
     "Carrier losses while sending since boot (a cable or link problem)."},
    {"kobs_network_transmit_compressed", NULL, NETDEV_TX_COMPRESSED,
     "Compressed packets sent since boot."},
};

struct netdev_state {
	struct buf file;
	struct name_filter *filter;
	struct named_rows
	    rows; /* this scrape's interfaces (struct netdev_row); each once, by name */
};

static void add_row(const struct netdev_row *row, void *arg)
{
	struct netdev_state *st = arg;
	if (name_filter_accepts(st->filter, row->name))
		named_rows_add(&st->rows, row);
}

static int netdev_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct netdev_state *st = state;
	if (procfs_read(env->procfs, "net/dev", &st->file, FILE_LIMIT) < 0) {
		read_errors_count(env->read_errors, "net/dev", read_error_from_errno(errno));
		return -1;
	}
	named_rows_clear(&st->rows);
	if (parse_netdev(st->file.data, st->file.len, add_row, st) < 0 || st->rows.overflow)
		read_errors_count(env->read_errors, "net/dev", READ_ERROR_PARSE);
	named_rows_unique(&st->rows);
	for (size_t m = 0; m < sizeof(netdev_metrics) / sizeof(netdev_metrics[0]); m++) {
		const struct netdev_metric *nm = &netdev_metrics[m];
		expo_family(out, nm->name, METRIC_COUNTER, nm->unit, nm->help);
		for (size_t i = 0; i < st->rows.count; i++) {
			const struct netdev_row *row = named_rows_get(&st->rows, i);
			struct label device = {"device", row->name};
			expo_sample(out, &device, 1, (double)row->v[nm->field]);
		}
	}
	return 0;
}

static void netdev_destroy(void *state)
{
	struct netdev_state *st = state;
	if (!st)
		return;
	buf_free(&st->file);
	name_filter_free(st->filter);
	named_rows_free(&st->rows);
	free(st);
}

static int netdev_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct netdev_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	named_rows_init(&st->rows, sizeof(struct netdev_row), offsetof(struct netdev_row, name),
	                MAX_INTERFACES);
	const struct host_options *h = env->host;
	st->filter = name_filter_new(h ? h->netdev_include : NULL,
	                             h ? h->netdev_exclude : DEFAULT_NETDEV_EXCLUDE,
	                             "--collector.netdev.device", why, why_len);
	if (!st->filter)
		goto fail;
	if (procfs_read_at_start(env->procfs, "net/dev", &st->file, FILE_LIMIT, why, why_len) < 0)
		goto fail;
	*state = st;
	return 0;
fail:
	netdev_destroy(st);
	return -1;
}

const struct collector_ops collector_netdev = {
    .name = "netdev",
    .description = "Traffic and errors of each network interface from /proc/net/dev",
    .default_enabled = true,
    .init = netdev_init,
    .collect = netdev_collect,
    .destroy = netdev_destroy,
};
