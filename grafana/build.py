#!/usr/bin/python3
"""Writes kobsd's Grafana dashboards (grafana/dashboards/*.json) from the definitions below.

  grafana/build.py           write the JSON files
  grafana/build.py --check   exit 1 when a file differs from what would be written
  grafana/build.py --queries print every panel query, one per line (for the tests)

The dashboards follow the node-exporter mixin and grafana's dashboard-linter: a `datasource`
variable (no __inputs placeholders, so file provisioning and UI import both work), `job` and
`instance` variables (multi, allValue .+) that filter every query, rate() over
$__rate_interval, stable uids, and links between the four dashboards (tag kobsd). Every series
is kept per instance (and per device for block I/O) and says so in its legend; legends are
tables with the last, highest and mean values. They work in Grafana 9 to 11."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "dashboards")
DS = {"type": "prometheus", "uid": "${datasource}"}
F = 'job=~"$job",instance=~"$instance"'  # every query's filter
G = F + ',group=~"$group"'

# The group variable lists the top $top groups by CPU over the dashboard's time range, and its
# default is All, which (with no custom all value) Grafana expands to exactly the groups listed:
# so the panels draw the top 10 by default. A query variable's default cannot name groups in
# the JSON: Grafana keeps only the saved values that its refreshed options still contain and
# falls back to the first option (All) otherwise, and the top groups differ between hosts and
# hours. Choosing "all" for $top lists, and so draws, every group.
TOP_GROUPS = ("query_result(topk($top, sum by (group) (rate(kobs_group_cpu_seconds_total{%s}"
              "[$__range]))))" % F)
# query_result() gives lines like `{group="postgres"} 0.25 1700000000000`; greedy, so that a
# group name holding `"}` is still read whole.
TOP_GROUPS_REGEX = '/^\\{group="(.*)"\\}/'
TOP_CHOICES = ["5", "10", "20", "50"]
TOP_DEFAULT = "10"
TOP_ALL = ("all", "1e9")  # topk() with more than there are: every group

LEGEND_CALCS = ["lastNotNull", "max", "mean"]


def variable(name, query, label):
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "definition": query, "refresh": 2, "sort": 1, "regex": "",
        "multi": True, "includeAll": True, "allValue": ".+",
        "current": {}, "options": [], "hide": 0,
    }


def top_variable():
    options = [{"text": c, "value": c, "selected": c == TOP_DEFAULT} for c in TOP_CHOICES]
    options.append({"text": TOP_ALL[0], "value": TOP_ALL[1], "selected": False})
    return {
        "name": "top", "label": "Top groups by CPU", "type": "custom",
        "description": "How many groups the Group list offers: the busiest over the time range.",
        "query": ",".join(TOP_CHOICES) + ",%s : %s" % TOP_ALL,
        "current": {"selected": True, "text": TOP_DEFAULT, "value": TOP_DEFAULT},
        "options": options, "multi": False, "includeAll": False, "hide": 0,
    }


def group_variable():
    v = variable("group", TOP_GROUPS, "Group")
    v.update({
        "description": "The top groups by CPU over the time range; All means all of those.",
        "regex": TOP_GROUPS_REGEX, "allValue": None,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    })
    return v


def templating(with_group):
    v = [
        {"name": "datasource", "label": "Data source", "type": "datasource",
         "query": "prometheus", "current": {}, "hide": 0, "options": [], "refresh": 1},
        variable("job", "label_values(kobs_build_info, job)", "Job"),
        variable("instance", 'label_values(kobs_build_info{job=~"$job"}, instance)',
                 "Instance"),
    ]
    if with_group:
        v += [top_variable(), group_variable()]
    return {"list": v}


def target(expr, legend="", ref="A", fmt=None, instant=False):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
    if fmt:
        t["format"] = fmt
    if instant:
        t["instant"] = True
        t["range"] = False
    return t


def timeseries(title, targets, unit="short", description="", stack=False):
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, "custom": {
            "fillOpacity": 10 if not stack else 60, "lineWidth": 1, "showPoints": "never",
            "stacking": {"mode": "normal" if stack else "none", "group": "A"}}},
            "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom",
                               "showLegend": True, "calcs": list(LEGEND_CALCS)},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "gridPos": {"w": 12, "h": 10},
    }


def stat(title, targets, unit, thresholds, description=""):
    """A single figure per instance (and resource), coloured by thresholds: [(value, colour)]."""
    steps = [{"color": "green", "value": None}]
    steps += [{"color": colour, "value": value} for value, colour in thresholds]
    return {
        "type": "stat", "title": title, "description": description, "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, "decimals": 1, "thresholds": {
            "mode": "absolute", "steps": steps}, "color": {"mode": "thresholds"}},
            "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                    "orientation": "auto", "textMode": "value_and_name"},
        "gridPos": {"w": 6, "h": 5},
    }


def selector(metric):
    """Block I/O is by disk, the other histograms by group."""
    return F if metric == "kobs_block_io_latency_seconds" else G


def heatmap(title, metric):
    sel = "{%s}" % selector(metric)
    return {
        "type": "heatmap", "title": title, "datasource": DS,
        "description": "Log2 buckets counted in the kernel (le = 2^k ns, in seconds), summed "
                       "over the selected instances.",
        "targets": [target("sum by (le) (rate(%s_bucket%s[$__rate_interval]))" % (metric, sel),
                           "{{le}}", fmt="heatmap")],
        "fieldConfig": {"defaults": {"custom": {"scaleDistribution": {"type": "linear"}}},
                        "overrides": []},
        "options": {"calculate": False, "yAxis": {"unit": "s", "axisPlacement": "left"},
                    "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges",
                                            "steps": 64, "exponent": 0.5},
                    "rowsFrame": {"layout": "auto"}, "tooltip": {"show": True},
                    "legend": {"show": True}},
        "gridPos": {"w": 12, "h": 10},
    }


def quantiles(title, metric, by):
    """p50 and p99 per instance and per the labels in `by`, each named in the legend."""
    keep = "instance, " + by
    names = " ".join("{{%s}}" % label for label in keep.split(", "))
    t = []
    for q, name, ref in (("0.5", "p50", "A"), ("0.99", "p99", "B")):
        t.append(target(
            "histogram_quantile(%s, sum by (%s, le) (rate(%s_bucket{%s}[$__rate_interval])))"
            % (q, keep, metric, selector(metric)), "%s %s" % (names, name), ref))
    return timeseries(title, t, "s")


def highlight(panel, series_regex):
    """Draw the series whose legend matches in thick red, the others as they are."""
    panel["fieldConfig"]["overrides"].append({
        "matcher": {"id": "byRegexp", "options": series_regex},
        "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}},
                       {"id": "custom.lineWidth", "value": 3}]})
    return panel


def nonzero_only(expr, labels, metric_selector):
    """The series of expr that are not 0 all through the dashboard's time range (Grafana 9 has
    no override to hide them, so the query leaves them out): `@ end()` makes every step look
    at the same window, the whole range."""
    return ("%s and on (%s) (max by (%s) (max_over_time(%s[$__range] @ end())) > 0)"
            % (expr, labels, labels, metric_selector))


def fd_usage(panel):
    """Ratio of the soft limit, with the alert's threshold (90%) drawn as a line."""
    d = panel["fieldConfig"]["defaults"]
    d.update({"min": 0, "max": 1, "thresholds": {"mode": "absolute", "steps": [
        {"color": "green", "value": None}, {"color": "red", "value": 0.9}]}})
    d["custom"]["thresholdsStyle"] = {"mode": "line"}
    return panel


def table(title, targets, unit="short"):
    return {
        "type": "table", "title": title, "datasource": DS, "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, "custom": {
            "displayMode": "gradient-gauge",
            "cellOptions": {"type": "gauge", "mode": "gradient"}}}, "overrides": [
            {"matcher": {"id": "byName", "options": "Time"},
             "properties": [{"id": "custom.hidden", "value": True}]}]},
        "options": {"showHeader": True, "sortBy": [{"displayName": "Value", "desc": True}]},
        "transformations": [{"id": "merge", "options": {}}],
        "gridPos": {"w": 24, "h": 8},
    }


def rate(metric, sel, by, window="$__rate_interval"):
    return "sum by (%s) (rate(%s{%s}[%s]))" % (by, metric, sel, window)


def host():
    return [
        stat("Uptime", [target("time() - kobs_boot_time_seconds{%s}" % F, "{{instance}}")],
             "s", [], "Since the host booted (/proc/stat btime)."),
        stat("Load per CPU", [target(
            "kobs_load1{%s} / on (instance, job) kobs_cpus{%s}" % (F, F), "{{instance}}")],
            "short", [(0.8, "orange"), (1.5, "red")],
            "1-minute load average divided by the number of CPUs."),
        stat("Memory available", [target(
            "kobs_memory_available_bytes{%s} / on (instance, job) kobs_memory_total_bytes{%s}"
            % (F, F), "{{instance}}")], "percentunit", [],
            "MemAvailable: what can be allocated without swapping, as a share of MemTotal."),
        stat("Pressure stall (some)", [target(
            rate("kobs_pressure_stalled_seconds_total", F + ',kind="some"', "instance, resource"),
            "{{instance}} {{resource}}")], "percentunit", [(0.1, "orange"), (0.3, "red")],
            "Share of time at least one task stalled on CPU, memory or I/O (PSI)."),
        timeseries("CPU by mode", [target(
            rate("kobs_cpu_seconds_total", F, "instance, mode") +
            " / on (instance) group_left sum by (instance) (kobs_cpus{%s})" % F,
            "{{instance}} {{mode}}")], "percentunit", stack=True),
        timeseries("CPU busy per CPU", [target(
            "1 - " + rate("kobs_cpu_seconds_total", F + ',mode=~"idle|iowait|steal"',
                          "instance, cpu"),
            "{{instance}} cpu{{cpu}}")], "percentunit",
            "Share of each CPU's time not idle, waiting for I/O or stolen: one busy CPU among "
            "idle ones shows here, not in the host's average."),
        timeseries("Load", [target("kobs_load1{%s}" % F, "{{instance}} 1m", "A"),
                            target("kobs_load5{%s}" % F, "{{instance}} 5m", "B"),
                            target("kobs_load15{%s}" % F, "{{instance}} 15m", "C")]),
        timeseries("Pressure stall (PSI)", [target(
            rate("kobs_pressure_stalled_seconds_total", F, "instance, resource, kind"),
            "{{instance}} {{resource}} {{kind}}")], "percentunit",
            "Share of time tasks stalled on each resource (some: at least one; full: all)."),
        timeseries("Memory", [
            target("kobs_memory_total_bytes{%s} - kobs_memory_available_bytes{%s}" % (F, F),
                   "{{instance}} used", "A"),
            target("kobs_memory_cached_bytes{%s}" % F, "{{instance}} cached", "B"),
            target("kobs_memory_available_bytes{%s}" % F, "{{instance}} available", "C")],
            "bytes"),
        timeseries("Context switches", [target(
            rate("kobs_context_switches_total", F, "instance"), "{{instance}}")], "ops"),
        timeseries("Softirqs", [target(rate("kobs_softirqs_total", F, "instance, type"),
                                       "{{instance}} {{type}}")], "ops"),
        timeseries("Processes and forks", [
            target("kobs_procs_running{%s}" % F, "{{instance}} running", "A"),
            target("kobs_procs_blocked{%s}" % F, "{{instance}} blocked (D)", "B"),
            target(rate("kobs_forks_total", F, "instance"), "{{instance}} forks/s", "C")]),
        timeseries("Paging and OOM kills", [
            target(rate("kobs_vm_major_page_faults_total", F, "instance"),
                   "{{instance}} major faults", "A"),
            target("sum by (instance) (increase(kobs_vm_oom_kills_total{%s}[$__rate_interval]))"
                   % F, "{{instance}} OOM kills", "B")], "ops"),
    ] + disks() + network() + filesystems()


def disks():
    """The disk row: diskstats."""
    dev = "instance, device"
    return [
        timeseries("Disk throughput", [
            target(rate("kobs_disk_read_bytes_total", F, dev), "{{instance}} {{device}} read",
                   "A"),
            target(rate("kobs_disk_written_bytes_total", F, dev),
                   "{{instance}} {{device}} written", "B")], "Bps",
            "Bytes read and written per second, by block device (/proc/diskstats)."),
        timeseries("Disk IOPS", [
            target(rate("kobs_disk_reads_completed_total", F, dev),
                   "{{instance}} {{device}} reads", "A"),
            target(rate("kobs_disk_writes_completed_total", F, dev),
                   "{{instance}} {{device}} writes", "B")], "iops",
            "Reads and writes completed per second."),
        timeseries("Disk utilisation", [
            target(rate("kobs_disk_io_time_seconds_total", F, dev), "{{instance}} {{device}}")],
            "percentunit",
            "Share of time the device had at least one request in flight (100%: always busy; "
            "a device that serves requests in parallel, an SSD, can do more even then)."),
        timeseries("Disk queue", [
            target(rate("kobs_disk_io_time_weighted_seconds_total", F, dev),
                   "{{instance}} {{device}}")], "short",
            "Average number of requests in flight (the KobsDiskIoSaturated alert: above 10 "
            "for 30 minutes)."),
    ]


def network():
    """The network row: netdev, netstat, sockstat."""
    dev = "instance, device"
    return [
        timeseries("Network traffic", [
            target(rate("kobs_network_receive_bytes_total", F, dev),
                   "{{instance}} {{device}} in", "A"),
            target(rate("kobs_network_transmit_bytes_total", F, dev),
                   "{{instance}} {{device}} out", "B")], "Bps",
            "Bytes received and sent per second, by interface (/proc/net/dev; the loopback "
            "interface is left out by default)."),
        timeseries("Network errors and drops", [
            target(rate("kobs_network_receive_errs_total", F, dev),
                   "{{instance}} {{device}} receive errors", "A"),
            target(rate("kobs_network_receive_drop_total", F, dev),
                   "{{instance}} {{device}} receive drops", "B"),
            target(rate("kobs_network_transmit_errs_total", F, dev),
                   "{{instance}} {{device}} transmit errors", "C"),
            target(rate("kobs_network_transmit_drop_total", F, dev),
                   "{{instance}} {{device}} transmit drops", "D")], "pps",
            "Packets per second in error or dropped, by interface."),
        timeseries("TCP", [
            target(rate("kobs_netstat_tcp_retransmitted_segments_total", F, "instance"),
                   "{{instance}} retransmitted segments", "A"),
            target(rate("kobs_netstat_tcp_listen_drops_total", F, "instance"),
                   "{{instance}} listen drops", "B"),
            target(rate("kobs_netstat_tcp_sent_resets_total", F, "instance"),
                   "{{instance}} resets sent", "C"),
            target(rate("kobs_netstat_tcp_active_opens_total", F, "instance"),
                   "{{instance}} connections opened", "D")], "ops",
            "TCP events per second (/proc/net/snmp, netstat): retransmits, SYNs dropped by full "
            "listen queues, resets."),
        timeseries("Sockets", [
            target('kobs_sockstat_in_use{%s,protocol=~"tcp|tcp6|udp|udp6"}' % F,
                   "{{instance}} {{protocol}} in use", "A"),
            target("kobs_sockstat_tcp_time_wait{%s}" % F, "{{instance}} TCP time-wait", "B"),
            target("kobs_sockstat_tcp_orphans{%s}" % F, "{{instance}} TCP orphans", "C")],
            "short", "Sockets by protocol and state (/proc/net/sockstat)."),
    ]


def filesystems():
    """The filesystem row: filesystem, and the clock (time)."""
    mnt = "instance, mountpoint"
    return [
        timeseries("Filesystem space used", [target(
            "max by (%s) (1 - kobs_filesystem_avail_bytes{%s} / kobs_filesystem_size_bytes{%s})"
            % (mnt, F, F), "{{instance}} {{mountpoint}}")], "percentunit",
            "Share of each filesystem not available to unprivileged users (root's reserve "
            "counts as used, as df shows it)."),
        timeseries("Filesystem inodes used", [target(
            "max by (%s) (1 - kobs_filesystem_files_free{%s} / kobs_filesystem_files{%s} > 0)"
            % (mnt, F, F), "{{instance}} {{mountpoint}}")], "percentunit",
            "Share of each filesystem's inodes in use (filesystems without a fixed inode count "
            "are left out)."),
        timeseries("Mounts: served, read-only, failing, hanging", [
            target("count by (instance) (kobs_filesystem_device_error{%s})" % F,
                   "{{instance}} served", "D"),
            target("sum by (instance) (kobs_filesystem_readonly{%s})" % F,
                   "{{instance}} read-only", "A"),
            target("sum by (instance) (kobs_filesystem_device_error{%s})" % F,
                   "{{instance}} statvfs failing", "B"),
            target("sum by (instance) (kobs_filesystem_stale{%s})" % F,
                   "{{instance}} hanging (stale)", "C")], "short",
            "Mounts served, and of them those read-only, those whose statvfs fails, and those "
            "whose statvfs has not returned within --collector.filesystem.mount-timeout."),
        timeseries("Clock", [
            target("kobs_timex_maxerror_seconds{%s}" % F, "{{instance}} max error", "A"),
            target("abs(kobs_timex_offset_seconds{%s})" % F, "{{instance}} offset", "B")], "s",
            "The kernel's clock discipline (adjtimex): a maximum error of 16 s means nothing "
            "synchronises the clock (the KobsClockNotSynchronising alert)."),
    ]


def groups():
    by_state = "instance, group, state"
    return [
        table("Top groups by CPU", [target(
            "topk(10, " + rate("kobs_group_cpu_seconds_total", G, "instance, group") + ")",
            fmt="table", instant=True)], "percentunit"),
        timeseries("CPU by group", [target(rate("kobs_group_cpu_seconds_total", G,
                                                "instance, group"), "{{instance}} {{group}}")],
                   "percentunit"),
        timeseries("Resident memory", [target(
            "sum by (instance, group) (kobs_group_resident_memory_bytes{%s})" % G,
            "{{instance}} {{group}}")], "bytes"),
        timeseries("I/O: storage vs syscalls", [target(
            rate("kobs_group_io_bytes_total", G, "instance, group, op, layer"),
            "{{instance}} {{group}} {{op}} {{layer}}")], "Bps",
            "storage: what reached the block layer; syscall: what read and write calls moved."),
        timeseries("Context switches", [target(
            rate("kobs_group_context_switches_total", G, "instance, group, type"),
            "{{instance}} {{group}} {{type}}")], "ops"),
        timeseries("Page faults", [target(
            rate("kobs_group_page_faults_total", G, "instance, group, type"),
            "{{instance}} {{group}} {{type}}")], "ops"),
        timeseries("Open fds", [target(
            "sum by (instance, group) (kobs_group_open_fds{%s})" % G,
            "{{instance}} {{group}}")], "short",
            "File descriptors open in the group's processes, summed."),
        fd_usage(timeseries("Worst fd usage (of the soft limit)", [target(
            "max by (instance, group) (kobs_group_max_fd_usage_ratio{%s})" % G,
            "{{instance}} {{group}}")], "percentunit",
            "The group's process closest to its open-files limit (ulimit -n); the alert "
            "KobsGroupFdsNearLimit fires above 90%.")),
        highlight(timeseries("Processes by state (D highlighted)", [target(nonzero_only(
            "sum by (%s) (kobs_group_processes{%s})" % (by_state, G), by_state,
            "kobs_group_processes{%s}" % G), "{{instance}} {{group}} {{state}}")],
            description="disk_sleep is the D state. States with no process all through the "
                        "time range are left out."),
            ".* disk_sleep$"),
        timeseries("Run-queue wait", [target(
            rate("kobs_group_runqueue_wait_seconds_total", G, "instance, group"),
            "{{instance}} {{group}}")], "percentunit",
            "Seconds per second the group's main threads waited for a CPU."),
        timeseries("Restarts (oldest process start time changes)", [target(
            "sum by (instance, group) (changes(kobs_group_oldest_start_time_seconds{%s}"
            "[$__rate_interval]))" % G, "{{instance}} {{group}}")]),
    ]


def kernel():
    p = []
    for title, metric, by in (
            ("Run-queue latency", "kobs_runqueue_latency_seconds", "group"),
            ("Off-CPU time", "kobs_offcpu_seconds", "group"),
            ("Syscall latency", "kobs_syscall_latency_seconds", "syscall"),
            ("Block I/O latency", "kobs_block_io_latency_seconds", "device, op")):
        p.append(heatmap(title, metric))
        p.append(quantiles(title + " p50 / p99", metric, by))
    p += [
        timeseries("OOM kills by group", [target(
            "sum by (instance, group) (increase(kobs_oom_kills_total{%s}[$__rate_interval])) "
            "or on () vector(0)" % F, "{{instance}} {{group}}")],
            description="0 when no OOM kill happened in the range."),
        timeseries("TCP retransmits", [target(rate("kobs_tcp_retransmits_total", F,
                                                   "instance"), "{{instance}}")], "ops"),
        timeseries("Packet drops by reason", [target(
            rate("kobs_packet_drops_total", F, "instance, reason") + " or on () vector(0)",
            "{{instance}} {{reason}}")], "ops", "Reasons from the kernel's enum skb_drop_reason."),
    ]
    return p


def self_():
    return [
        timeseries("Collection time by collector", [target(
            "max by (instance, collector) (kobs_scrape_collector_duration_seconds{%s})" % F,
            "{{instance}} {{collector}}")], "s"),
        timeseries("Collector success", [target(
            "min by (instance, collector) (kobs_scrape_collector_success{%s})" % F,
            "{{instance}} {{collector}}")]),
        timeseries("Series served", [target(
            "sum by (instance) (scrape_samples_scraped{%s})" % F, "{{instance}}")]),
        timeseries("CPU of kobsd", [target(rate("process_cpu_seconds_total", F, "instance"),
                                           "{{instance}}")], "percentunit"),
        timeseries("Resident memory of kobsd", [target(
            "max by (instance) (process_resident_memory_bytes{%s})" % F, "{{instance}}")],
            "bytes"),
        timeseries("/proc read errors", [target(
            rate("kobs_procfs_read_errors_total", F, "instance, file, reason") +
            " or on () vector(0)", "{{instance}} {{file}} {{reason}}")], "ops"),
        timeseries("BPF programs attached", [target(
            "max by (instance, program) (kobs_bpf_program_attached{%s})" % F,
            "{{instance}} {{program}}")]),
        timeseries("BPF run time per event", [target(
            "sum by (instance, program, tracepoint) (rate(kobs_bpf_program_run_seconds_total{%s}"
            "[$__rate_interval])) / sum by (instance, program, tracepoint) "
            "(rate(kobs_bpf_program_runs_total{%s}[$__rate_interval]))" % (F, F),
            "{{instance}} {{program}} {{tracepoint}}")], "s",
            "Served while kernel.bpf_stats_enabled is 1 (sysctl -w kernel.bpf_stats_enabled=1); "
            "empty otherwise."),
    ]


DASHBOARDS = [
    ("kobsd-host", "kobsd / Host", host, False),
    ("kobsd-groups", "kobsd / Process groups", groups, True),
    ("kobsd-kernel", "kobsd / Kernel latency", kernel, True),
    ("kobsd-self", "kobsd / kobsd itself", self_, False),
]


def laid_out(panels):
    """Left to right in rows of 24 columns, in the order given; a row is as tall as its
    tallest panel."""
    x = y = row_h = 0
    for i, panel in enumerate(panels):
        w, h = panel["gridPos"]["w"], panel["gridPos"]["h"]
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        panel["id"] = i + 1
        panel["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
        row_h = max(row_h, h)
    return panels


def dashboard(uid, title, panels_of, with_group):
    return {
        "uid": uid, "title": title, "tags": ["kobsd"], "editable": True,
        "schemaVersion": 38, "version": 1, "refresh": "30s", "graphTooltip": 1,
        "time": {"from": "now-1h", "to": "now"}, "timezone": "",
        "links": [{"type": "dashboards", "tags": ["kobsd"], "asDropdown": False,
                   "includeVars": True, "keepTime": True, "title": "kobsd dashboards"}],
        "templating": templating(with_group), "annotations": {"list": []},
        "panels": laid_out(panels_of()),
    }


def rendered():
    return {uid + ".json": json.dumps(dashboard(uid, title, p, g), indent=2, sort_keys=True) + "\n"
            for uid, title, p, g in DASHBOARDS}


def main():
    files = rendered()
    if "--queries" in sys.argv:
        for text in files.values():
            for panel in json.loads(text)["panels"]:
                for t in panel["targets"]:
                    print(t["expr"])
        return 0
    if "--check" in sys.argv:
        stale = [n for n, text in files.items()
                 if not os.path.exists(os.path.join(OUT, n))
                 or open(os.path.join(OUT, n), encoding="utf-8").read() != text]
        for n in stale:
            print(f"grafana/dashboards/{n} is not what grafana/build.py writes: run it")
        return 1 if stale else 0
    os.makedirs(OUT, exist_ok=True)
    for n, text in files.items():
        with open(os.path.join(OUT, n), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
