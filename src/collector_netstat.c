/* The "netstat" collector: the kernel's protocol counters from /proc/net/snmp, /proc/net/netstat
 * and /proc/net/snmp6 — TCP retransmits, listen queue overflows and drops, resets, timeouts,
 * SYN cookies, UDP errors, IP and ICMP traffic. These need no BPF; the bpf collector's
 * kobs_tcp_retransmits_total is the same retransmits split by process group.
 *
 * node_exporter serves these as node_netstat_<Group>_<Key> (untyped, camel case); kobsd gives them
 * snake-case names with units and types, and the Group/Key each comes from in its HELP and in
 * docs/metrics.md. Like /proc/net/dev, the files describe the reader's network namespace. */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "host_parse.h"
#include "procfs.h"
#include "procfs_parse.h"
#include "xalloc.h"

#define FILE_LIMIT  (1u << 20)
#define MAX_SAMPLES 4

enum source {
	SRC_SNMP,    /* /proc/net/snmp: "Group: names" / "Group: values" pairs */
	SRC_NETSTAT, /* /proc/net/netstat: the same layout */
	SRC_SNMP6,   /* /proc/net/snmp6: "Udp6InDatagrams 12" lines */
	SRC__COUNT,
};

static const char *const source_files[SRC__COUNT] = {"net/snmp", "net/netstat", "net/snmp6"};

struct sample_src {
	enum source src;
	const char *group; /* NULL for snmp6 */
	const char *key;
	const char *protocol; /* the protocol label, or NULL for a family without labels */
};

struct netstat_metric {
	const char *name; /* counters without _total */
	enum metric_type type;
	const char *unit;
	const char *help;
	struct sample_src s[MAX_SAMPLES]; /* up to the first with key NULL */
};

static const struct netstat_metric netstat_metrics[] = {
    {"kobs_netstat_tcp_active_opens",
     METRIC_COUNTER,
     NULL,
     "TCP connections this host opened (SYN sent) since boot (Tcp ActiveOpens).",
     {{SRC_SNMP, "Tcp", "ActiveOpens", NULL}}},
    {"kobs_netstat_tcp_passive_opens",
     METRIC_COUNTER,
     NULL,
     "TCP connections this host accepted since boot (Tcp PassiveOpens).",
     {{SRC_SNMP, "Tcp", "PassiveOpens", NULL}}},
    {"kobs_netstat_tcp_attempt_fails",
     METRIC_COUNTER,
     NULL,
     "TCP connection attempts that failed since boot (Tcp AttemptFails).",
     {{SRC_SNMP, "Tcp", "AttemptFails", NULL}}},
    {"kobs_netstat_tcp_established_resets",
     METRIC_COUNTER,
     NULL,
     "Established TCP connections reset since boot (Tcp EstabResets).",
     {{SRC_SNMP, "Tcp", "EstabResets", NULL}}},
    {"kobs_netstat_tcp_current_established",
     METRIC_GAUGE,
     NULL,
     "TCP connections established or closing from the other side now (Tcp CurrEstab).",
     {{SRC_SNMP, "Tcp", "CurrEstab", NULL}}},
    {"kobs_netstat_tcp_received_segments",
     METRIC_COUNTER,
     NULL,
     "TCP segments received since boot, errors included (Tcp InSegs).",
     {{SRC_SNMP, "Tcp", "InSegs", NULL}}},
    {"kobs_netstat_tcp_sent_segments",
     METRIC_COUNTER,
     NULL,
     "TCP segments sent since boot, retransmits excluded (Tcp OutSegs).",
     {{SRC_SNMP, "Tcp", "OutSegs", NULL}}},
    {"kobs_netstat_tcp_retransmitted_segments",
     METRIC_COUNTER,
     NULL,
     "TCP segments retransmitted since boot (Tcp RetransSegs); per process group: "
     "kobs_tcp_retransmits_total (bpf).",
     {{SRC_SNMP, "Tcp", "RetransSegs", NULL}}},
    {"kobs_netstat_tcp_receive_errors",
     METRIC_COUNTER,
     NULL,
     "TCP segments received in error (bad checksum...) since boot (Tcp InErrs).",
     {{SRC_SNMP, "Tcp", "InErrs", NULL}}},
    {"kobs_netstat_tcp_sent_resets",
     METRIC_COUNTER,
     NULL,
     "TCP segments sent with the RST flag since boot (Tcp OutRsts).",
     {{SRC_SNMP, "Tcp", "OutRsts", NULL}}},
    {"kobs_netstat_tcp_listen_overflows",
     METRIC_COUNTER,
     NULL,
     "Connections a listening socket could not accept because its accept queue was full, "
     "since boot (TcpExt ListenOverflows).",
     {{SRC_NETSTAT, "TcpExt", "ListenOverflows", NULL}}},
    {"kobs_netstat_tcp_listen_drops",
     METRIC_COUNTER,
     NULL,
     "SYNs to listening sockets dropped for any reason, overflows included, since boot "
     "(TcpExt ListenDrops).",
     {{SRC_NETSTAT, "TcpExt", "ListenDrops", NULL}}},
    {"kobs_netstat_tcp_syn_retransmits",
     METRIC_COUNTER,
     NULL,
     "SYN and SYN-ACK retransmits since boot (TcpExt TCPSynRetrans).",
     {{SRC_NETSTAT, "TcpExt", "TCPSynRetrans", NULL}}},
    {"kobs_netstat_tcp_timeouts",
     METRIC_COUNTER,
     NULL,
     "TCP retransmission timeouts since boot (TcpExt TCPTimeouts).",
     {{SRC_NETSTAT, "TcpExt", "TCPTimeouts", NULL}}},
    {"kobs_netstat_tcp_syncookies_sent",
     METRIC_COUNTER,
     NULL,
     "SYN cookies sent since boot: the SYN queue was full (TcpExt SyncookiesSent).",
     {{SRC_NETSTAT, "TcpExt", "SyncookiesSent", NULL}}},
    {"kobs_netstat_tcp_syncookies_received",
     METRIC_COUNTER,
     NULL,
     "Valid SYN cookies received since boot (TcpExt SyncookiesRecv).",
     {{SRC_NETSTAT, "TcpExt", "SyncookiesRecv", NULL}}},
    {"kobs_netstat_tcp_syncookies_failed",
     METRIC_COUNTER,
     NULL,
     "Invalid SYN cookies received since boot (TcpExt SyncookiesFailed).",
     {{SRC_NETSTAT, "TcpExt", "SyncookiesFailed", NULL}}},
    {"kobs_netstat_udp_received_datagrams",
     METRIC_COUNTER,
     NULL,
     "UDP datagrams delivered to sockets since boot (Udp InDatagrams, Udp6InDatagrams).",
     {{SRC_SNMP, "Udp", "InDatagrams", "udp"}, {SRC_SNMP6, NULL, "Udp6InDatagrams", "udp6"}}},
    {"kobs_netstat_udp_sent_datagrams",
     METRIC_COUNTER,
     NULL,
     "UDP datagrams sent since boot (Udp OutDatagrams, Udp6OutDatagrams).",
     {{SRC_SNMP, "Udp", "OutDatagrams", "udp"}, {SRC_SNMP6, NULL, "Udp6OutDatagrams", "udp6"}}},
    {"kobs_netstat_udp_no_port",
     METRIC_COUNTER,
     NULL,
     "UDP datagrams received for a port nobody listens on since boot (Udp NoPorts).",
     {{SRC_SNMP, "Udp", "NoPorts", "udp"}, {SRC_SNMP6, NULL, "Udp6NoPorts", "udp6"}}},
    {"kobs_netstat_udp_receive_errors",
     METRIC_COUNTER,
     NULL,
     "UDP datagrams that could not be delivered since boot, buffer errors included (Udp "
     "InErrors).",
     {{SRC_SNMP, "Udp", "InErrors", "udp"},
      {SRC_SNMP6, NULL, "Udp6InErrors", "udp6"},
      {SRC_SNMP, "UdpLite", "InErrors", "udplite"},
      {SRC_SNMP6, NULL, "UdpLite6InErrors", "udplite6"}}},
    {"kobs_netstat_udp_receive_buffer_errors",
     METRIC_COUNTER,
     NULL,
     "UDP datagrams dropped since boot because the socket's receive buffer was full (Udp "
     "RcvbufErrors).",
     {{SRC_SNMP, "Udp", "RcvbufErrors", "udp"}, {SRC_SNMP6, NULL, "Udp6RcvbufErrors", "udp6"}}},
    {"kobs_netstat_udp_send_buffer_errors",
     METRIC_COUNTER,
     NULL,
     "UDP datagrams not sent since boot because the socket's send buffer was full (Udp "
     "SndbufErrors).",
     {{SRC_SNMP, "Udp", "SndbufErrors", "udp"}, {SRC_SNMP6, NULL, "Udp6SndbufErrors", "udp6"}}},
    {"kobs_netstat_ip_received_bytes",
     METRIC_COUNTER,
     "bytes",
     "Bytes of IP packets received since boot (IpExt InOctets, Ip6InOctets).",
     {{SRC_NETSTAT, "IpExt", "InOctets", "ipv4"}, {SRC_SNMP6, NULL, "Ip6InOctets", "ipv6"}}},
    {"kobs_netstat_ip_sent_bytes",
     METRIC_COUNTER,
     "bytes",
     "Bytes of IP packets sent since boot (IpExt OutOctets, Ip6OutOctets).",
     {{SRC_NETSTAT, "IpExt", "OutOctets", "ipv4"}, {SRC_SNMP6, NULL, "Ip6OutOctets", "ipv6"}}},
    {"kobs_netstat_icmp_received_messages",
     METRIC_COUNTER,
     NULL,
     "ICMP messages received since boot (Icmp InMsgs, Icmp6InMsgs).",
     {{SRC_SNMP, "Icmp", "InMsgs", "icmp"}, {SRC_SNMP6, NULL, "Icmp6InMsgs", "icmp6"}}},
    {"kobs_netstat_icmp_sent_messages",
     METRIC_COUNTER,
     NULL,
     "ICMP messages sent since boot (Icmp OutMsgs, Icmp6OutMsgs).",
     {{SRC_SNMP, "Icmp", "OutMsgs", "icmp"}, {SRC_SNMP6, NULL, "Icmp6OutMsgs", "icmp6"}}},
    {"kobs_netstat_icmp_receive_errors",
     METRIC_COUNTER,
     NULL,
     "ICMP messages received in error since boot (Icmp InErrors, Icmp6InErrors).",
     {{SRC_SNMP, "Icmp", "InErrors", "icmp"}, {SRC_SNMP6, NULL, "Icmp6InErrors", "icmp6"}}},
};
#define NMETRICS (sizeof(netstat_metrics) / sizeof(netstat_metrics[0]))

struct netstat_state {
	struct buf file;
	/* The fields each source is parsed for, and where each sample's value is. */
	struct group_field *groups[SRC__COUNT]; /* SRC_SNMP, SRC_NETSTAT */
	struct kv_field *kv;                    /* SRC_SNMP6 */
	size_t nfields[SRC__COUNT];
	size_t index[NMETRICS][MAX_SAMPLES];
	bool read[SRC__COUNT]; /* this scrape */
};

static bool sample_found(const struct netstat_state *st, size_t m, size_t k, uint64_t *value)
{
	const struct sample_src *s = &netstat_metrics[m].s[k];
	if (!st->read[s->src])
		return false;
	size_t i = st->index[m][k];
	if (s->src == SRC_SNMP6) {
		*value = st->kv[i].value;
		return st->kv[i].found;
	}
	*value = st->groups[s->src][i].value;
	return st->groups[s->src][i].found;
}

static void read_source(struct netstat_state *st, const struct collector_env *env, enum source src)
{
	st->read[src] = false;
	if (procfs_read(env->procfs, source_files[src], &st->file, FILE_LIMIT) < 0) {
		/* Without IPv6 (ipv6.disable=1) there is no snmp6: nothing wrong with that. */
		if (src != SRC_SNMP6 || errno != ENOENT)
			read_errors_count(env->read_errors, source_files[src],
			                  read_error_from_errno(errno));
		return;
	}
	int rc = src == SRC_SNMP6
	             ? parse_vmstat(st->file.data, st->file.len, st->kv, st->nfields[src])
	             : parse_snmp(st->file.data, st->file.len, st->groups[src], st->nfields[src]);
	if (rc < 0) {
		read_errors_count(env->read_errors, source_files[src], READ_ERROR_PARSE);
		return;
	}
	st->read[src] = true;
}

static int netstat_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct netstat_state *st = state;
	for (int src = 0; src < SRC__COUNT; src++)
		read_source(st, env, (enum source)src);
	for (size_t m = 0; m < NMETRICS; m++) {
		const struct netstat_metric *nm = &netstat_metrics[m];
		bool started = false;
		for (size_t k = 0; k < MAX_SAMPLES && nm->s[k].key; k++) {
			uint64_t value;
			if (!sample_found(st, m, k, &value))
				continue;
			if (!started)
				expo_family(out, nm->name, nm->type, nm->unit, nm->help);
			started = true;
			struct label protocol = {"protocol", nm->s[k].protocol};
			expo_sample(out, &protocol, protocol.value ? 1 : 0, (double)value);
		}
	}
	return st->read[SRC_SNMP] ? 0 : -1;
}

static void netstat_destroy(void *state)
{
	struct netstat_state *st = state;
	if (!st)
		return;
	buf_free(&st->file);
	free(st->groups[SRC_SNMP]);
	free(st->groups[SRC_NETSTAT]);
	free(st->kv);
	free(st);
}

static int netstat_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct netstat_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	size_t most = NMETRICS * MAX_SAMPLES;
	st->groups[SRC_SNMP] = xcalloc(most, sizeof(struct group_field));
	st->groups[SRC_NETSTAT] = xcalloc(most, sizeof(struct group_field));
	st->kv = xcalloc(most, sizeof(struct kv_field));
	for (size_t m = 0; m < NMETRICS; m++) {
		for (size_t k = 0; k < MAX_SAMPLES && netstat_metrics[m].s[k].key; k++) {
			const struct sample_src *s = &netstat_metrics[m].s[k];
			size_t i = st->nfields[s->src]++;
			st->index[m][k] = i;
			if (s->src == SRC_SNMP6) {
				st->kv[i].key = s->key;
			} else {
				st->groups[s->src][i].group = s->group;
				st->groups[s->src][i].key = s->key;
			}
		}
	}
	if (procfs_read_at_start(env->procfs, "net/snmp", &st->file, FILE_LIMIT, why, why_len) <
	    0) {
		netstat_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

const struct collector_ops collector_netstat = {
    .name = "netstat",
    .description = "TCP, UDP, IP and ICMP counters from /proc/net/snmp, netstat and snmp6",
    .default_enabled = true,
    .init = netstat_init,
    .collect = netstat_collect,
    .destroy = netstat_destroy,
};
