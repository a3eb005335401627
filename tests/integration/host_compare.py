"""Compare kobsd's host collectors with node_exporter's, scraped around the same moment
(tests/integration/host_node_exporter.sh): node_exporter, kobsd, node_exporter again.

- A counter of kobsd must lie between node_exporter's two readings (exactly, but for float
  rounding): both read the same kernel counter, kobsd in between, so their rates agree too.
- A gauge must lie within 1% of the range of node_exporter's two readings; socket and in-flight
  counts, which the scrapes themselves move, get an absolute slack of a few as well.
- Every kobsd series of the host families must have a node_exporter counterpart, and every
  node_exporter series of the compared families must have a kobsd one, except where noted.

    host_compare.py NODE_BEFORE KOBSD NODE_AFTER   (text exposition files)
Prints one line per family compared and exits 1 on any mismatch.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

SECTOR = 512.0

# kobsd family -> (node family, scale) for series with the same labels.
SAME_LABELS = {
    "kobs_disk_reads_completed_total": ("node_disk_reads_completed_total", 1),
    "kobs_disk_reads_merged_total": ("node_disk_reads_merged_total", 1),
    "kobs_disk_read_bytes_total": ("node_disk_read_bytes_total", 1),
    "kobs_disk_read_time_seconds_total": ("node_disk_read_time_seconds_total", 1),
    "kobs_disk_writes_completed_total": ("node_disk_writes_completed_total", 1),
    "kobs_disk_writes_merged_total": ("node_disk_writes_merged_total", 1),
    "kobs_disk_written_bytes_total": ("node_disk_written_bytes_total", 1),
    "kobs_disk_write_time_seconds_total": ("node_disk_write_time_seconds_total", 1),
    "kobs_disk_io_now": ("node_disk_io_now", 1),
    "kobs_disk_io_time_seconds_total": ("node_disk_io_time_seconds_total", 1),
    "kobs_disk_io_time_weighted_seconds_total": ("node_disk_io_time_weighted_seconds_total", 1),
    "kobs_disk_discards_completed_total": ("node_disk_discards_completed_total", 1),
    "kobs_disk_discards_merged_total": ("node_disk_discards_merged_total", 1),
    "kobs_disk_discarded_bytes_total": ("node_disk_discarded_sectors_total", SECTOR),
    "kobs_disk_discard_time_seconds_total": ("node_disk_discard_time_seconds_total", 1),
    "kobs_disk_flush_requests_total": ("node_disk_flush_requests_total", 1),
    "kobs_disk_flush_requests_time_seconds_total":
        ("node_disk_flush_requests_time_seconds_total", 1),
    "kobs_filesystem_size_bytes": ("node_filesystem_size_bytes", 1),
    "kobs_filesystem_free_bytes": ("node_filesystem_free_bytes", 1),
    "kobs_filesystem_avail_bytes": ("node_filesystem_avail_bytes", 1),
    "kobs_filesystem_files": ("node_filesystem_files", 1),
    "kobs_filesystem_files_free": ("node_filesystem_files_free", 1),
    "kobs_filesystem_readonly": ("node_filesystem_readonly", 1),
    "kobs_filesystem_device_error": ("node_filesystem_device_error", 1),
    "kobs_uname_info": ("node_uname_info", 1),
    "kobs_boot_time_seconds": ("node_boot_time_seconds", 1),
    "kobs_time_seconds": ("node_time_seconds", 1),
    "kobs_time_zone_offset_seconds": ("node_time_zone_offset_seconds", 1),
    "kobs_time_clocksource_current_info": ("node_time_clocksource_current_info", 1),
    "kobs_time_clocksource_available_info": ("node_time_clocksource_available_info", 1),
    "kobs_timex_sync_status": ("node_timex_sync_status", 1),
    "kobs_timex_offset_seconds": ("node_timex_offset_seconds", 1),
    "kobs_timex_frequency_adjustment_ratio": ("node_timex_frequency_adjustment_ratio", 1),
    "kobs_timex_maxerror_seconds": ("node_timex_maxerror_seconds", 1),
    "kobs_timex_estimated_error_seconds": ("node_timex_estimated_error_seconds", 1),
    "kobs_timex_status": ("node_timex_status", 1),
    "kobs_timex_loop_time_constant": ("node_timex_loop_time_constant", 1),
    "kobs_timex_tick_seconds": ("node_timex_tick_seconds", 1),
    "kobs_timex_tai_offset_seconds": ("node_timex_tai_offset_seconds", 1),
}
for d in ("receive", "transmit"):
    for f in ("bytes", "packets", "errs", "drop", "fifo", "compressed"):
        SAME_LABELS[f"kobs_network_{d}_{f}_total"] = (f"node_network_{d}_{f}_total", 1)
for f in ("frame", "multicast"):
    SAME_LABELS[f"kobs_network_receive_{f}_total"] = (f"node_network_receive_{f}_total", 1)
for f in ("colls", "carrier"):
    SAME_LABELS[f"kobs_network_transmit_{f}_total"] = (f"node_network_transmit_{f}_total", 1)

# kobsd (family, protocol label or None) -> node_exporter family without labels.
NETSTAT = {
    ("kobs_netstat_tcp_active_opens_total", None): "node_netstat_Tcp_ActiveOpens",
    ("kobs_netstat_tcp_passive_opens_total", None): "node_netstat_Tcp_PassiveOpens",
    ("kobs_netstat_tcp_attempt_fails_total", None): "node_netstat_Tcp_AttemptFails",
    ("kobs_netstat_tcp_established_resets_total", None): "node_netstat_Tcp_EstabResets",
    ("kobs_netstat_tcp_current_established", None): "node_netstat_Tcp_CurrEstab",
    ("kobs_netstat_tcp_received_segments_total", None): "node_netstat_Tcp_InSegs",
    ("kobs_netstat_tcp_sent_segments_total", None): "node_netstat_Tcp_OutSegs",
    ("kobs_netstat_tcp_retransmitted_segments_total", None): "node_netstat_Tcp_RetransSegs",
    ("kobs_netstat_tcp_receive_errors_total", None): "node_netstat_Tcp_InErrs",
    ("kobs_netstat_tcp_sent_resets_total", None): "node_netstat_Tcp_OutRsts",
    ("kobs_netstat_tcp_listen_overflows_total", None): "node_netstat_TcpExt_ListenOverflows",
    ("kobs_netstat_tcp_listen_drops_total", None): "node_netstat_TcpExt_ListenDrops",
    ("kobs_netstat_tcp_syn_retransmits_total", None): "node_netstat_TcpExt_TCPSynRetrans",
    ("kobs_netstat_tcp_timeouts_total", None): "node_netstat_TcpExt_TCPTimeouts",
    ("kobs_netstat_tcp_syncookies_sent_total", None): "node_netstat_TcpExt_SyncookiesSent",
    ("kobs_netstat_tcp_syncookies_received_total", None): "node_netstat_TcpExt_SyncookiesRecv",
    ("kobs_netstat_tcp_syncookies_failed_total", None): "node_netstat_TcpExt_SyncookiesFailed",
}
UDP_GROUPS = {"udp": "Udp", "udp6": "Udp6", "udplite": "UdpLite", "udplite6": "UdpLite6"}
for kobs, key in (("received_datagrams", "InDatagrams"), ("sent_datagrams", "OutDatagrams"),
                  ("no_port", "NoPorts"), ("receive_errors", "InErrors"),
                  ("receive_buffer_errors", "RcvbufErrors"),
                  ("send_buffer_errors", "SndbufErrors")):
    for proto, group in UDP_GROUPS.items():
        if proto.startswith("udplite") and key != "InErrors":
            continue  # of UDP-Lite, kobsd serves the errors only (node_exporter's defaults)
        NETSTAT[(f"kobs_netstat_udp_{kobs}_total", proto)] = f"node_netstat_{group}_{key}"
for kobs, key in (("received_bytes", "InOctets"), ("sent_bytes", "OutOctets")):
    NETSTAT[(f"kobs_netstat_ip_{kobs}_total", "ipv4")] = f"node_netstat_IpExt_{key}"
    NETSTAT[(f"kobs_netstat_ip_{kobs}_total", "ipv6")] = f"node_netstat_Ip6_{key}"
for kobs, key in (("received_messages", "InMsgs"), ("sent_messages", "OutMsgs"),
                  ("receive_errors", "InErrors")):
    NETSTAT[(f"kobs_netstat_icmp_{kobs}_total", "icmp")] = f"node_netstat_Icmp_{key}"
    NETSTAT[(f"kobs_netstat_icmp_{kobs}_total", "icmp6")] = f"node_netstat_Icmp6_{key}"

SOCKSTAT = {
    ("kobs_sockstat_sockets_used", None): "node_sockstat_sockets_used",
    ("kobs_sockstat_tcp_orphans", None): "node_sockstat_TCP_orphan",
    ("kobs_sockstat_tcp_time_wait", None): "node_sockstat_TCP_tw",
    ("kobs_sockstat_tcp_allocated", None): "node_sockstat_TCP_alloc",
    ("kobs_sockstat_memory_bytes", "tcp"): "node_sockstat_TCP_mem_bytes",
    ("kobs_sockstat_memory_bytes", "udp"): "node_sockstat_UDP_mem_bytes",
    ("kobs_sockstat_memory_bytes", "frag"): "node_sockstat_FRAG_memory",
    ("kobs_sockstat_memory_bytes", "frag6"): "node_sockstat_FRAG6_memory",
}
for proto in ("tcp", "udp", "udplite", "raw", "frag", "tcp6", "udp6", "udplite6", "raw6",
              "frag6"):
    SOCKSTAT[("kobs_sockstat_in_use", proto)] = f"node_sockstat_{proto.upper()}_inuse"

# Gauges the scrapes themselves move (their own sockets, requests in flight), and the clock:
# absolute slack beside the 1%.
SLACK = {
    "kobs_sockstat_sockets_used": 4, "kobs_sockstat_in_use": 4, "kobs_sockstat_tcp_time_wait": 4,
    "kobs_sockstat_tcp_allocated": 4, "kobs_sockstat_tcp_orphans": 2,
    "kobs_sockstat_memory_bytes": 65536, "kobs_netstat_tcp_current_established": 4,
    "kobs_disk_io_now": 4, "kobs_time_seconds": 30,
}
# kobsd families with no node_exporter counterpart.
KOBS_ONLY = {"kobs_filesystem_stale", "kobs_filesystem_stat_timeouts_total",
             "kobs_filesystem_stuck_threads"}
HOST_PREFIXES = ("kobs_disk_", "kobs_network_", "kobs_netstat_", "kobs_filesystem_",
                 "kobs_sockstat_", "kobs_uname_", "kobs_time_", "kobs_timex_")


def samples(path):
    """{(sample name, sorted labels): value} and {sample name: type}"""
    out, types = {}, {}
    with open(path, encoding="utf-8") as f:
        for family in text_string_to_metric_families(f.read()):
            for s in family.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                out[key] = s.value
                types[s.name] = family.type
    return out, types


def main():
    before, _ = samples(sys.argv[1])
    kobs, kobs_types = samples(sys.argv[2])
    after, _ = samples(sys.argv[3])
    problems = []
    compared = {}

    def node_key(name, labels):
        return (name, tuple(sorted(labels)))

    def compare(kname, klabels, value, nname, nlabels, scale):
        nk = node_key(nname, nlabels)
        if nk not in before or nk not in after:
            problems.append(f"{kname}{dict(klabels)}: node_exporter has no {nname}{dict(nlabels)}")
            return
        lo, hi = sorted((before[nk] * scale, after[nk] * scale))
        family = kname
        if kobs_types.get(kname) == "counter":
            ok = lo - 1e-9 * abs(lo) <= value <= hi + 1e-9 * abs(hi)
            why = f"not between node_exporter's {lo!r} and {hi!r}"
        else:
            slack = max(0.01 * max(abs(lo), abs(hi)), SLACK.get(kname, 0))
            ok = lo - slack <= value <= hi + slack
            why = f"not within 1% of node_exporter's {lo!r}..{hi!r}"
        compared[family] = compared.get(family, 0) + 1
        if not ok:
            problems.append(f"{kname}{dict(klabels)} = {value!r}: {why}")

    broken_mounts = set()
    for (name, labels), value in kobs.items():
        if name == "kobs_filesystem_device_error" and value != 0:
            broken_mounts.add(dict(labels)["mountpoint"])
    for (name, labels), value in before.items():
        if name == "node_filesystem_device_error" and value != 0:
            broken_mounts.add(dict(labels)["mountpoint"])

    seen_node = set()
    for (name, labels), value in sorted(kobs.items()):
        if not name.startswith(HOST_PREFIXES) and name != "kobs_boot_time_seconds":
            continue
        if name in KOBS_ONLY:
            continue
        ldict = dict(labels)
        if name.startswith("kobs_filesystem_") and ldict.get("mountpoint") in broken_mounts:
            continue  # one of the two could not stat it (kobsd runs as nobody)
        if name in SAME_LABELS:
            nname, scale = SAME_LABELS[name]
            compare(name, labels, value, nname, labels, scale)
            seen_node.add(node_key(nname, labels))
            continue
        proto = ldict.get("protocol")
        table = NETSTAT if name.startswith("kobs_netstat_") else SOCKSTAT
        nname = table.get((name, proto))
        if nname is None:
            problems.append(f"{name}{ldict}: no node_exporter counterpart known to this test")
            continue
        compare(name, labels, value, nname, (), 1)
        seen_node.add(node_key(nname, ()))

    # The other way round: node_exporter series of the compared families that kobsd lacks.
    node_families = {v[0] for v in SAME_LABELS.values()} | set(NETSTAT.values()) | set(
        SOCKSTAT.values())
    for (name, labels) in before:
        if name not in node_families or (name, labels) in seen_node:
            continue
        ldict = dict(labels)
        if ldict.get("mountpoint") in broken_mounts:
            continue
        if (name, labels) in after:
            problems.append(f"node_exporter serves {name}{ldict}, kobsd does not")

    for family in sorted(compared):
        print(f"ok {family}: {compared[family]} series")
    for p in problems:
        print(f"MISMATCH {p}")
    total = sum(compared.values())
    print(f"{total} series compared, {len(problems)} mismatches")
    sys.exit(1 if problems or total == 0 else 0)


if __name__ == "__main__":
    main()
