#!/usr/bin/python3
"""The judging side of tests/integration/processes.sh.

  processes_check.py DIR

DIR holds what processes.sh gathered while tests/integration/workload.py ran:
  workload.json   the workload's processes and their truths
  text1, text2    two text-format scrapes, `sleep` seconds apart; om: an OpenMetrics scrape
  cpu.0 .. cpu.3  /proc/PID/stat of the CPU burner before and after scrape 1, before and after
                  scrape 2 (so the true CPU time at each scrape lies between two of them)
  t0              the epoch second the test started

Prints "ok - ..." for each behaviour that holds and "FAIL: ..." for each that does not (naming
the series that is missing or wrong), and exits 1 when any failed. The workload's processes
must still be alive: some figures are compared with what /proc says now.
"""
import json
import os
import re
import sys
import time

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

import verdicts
from verdicts import Scrape, bad, check, collector_succeeded, escape, ok, series

MIB = 1 << 20
STATES = {"running", "sleeping", "disk_sleep", "zombie", "stopped", "idle", "other"}
TICK = os.sysconf("SC_CLK_TCK")
# kobsd may read CPU time from stat (ticks) or a finer source; allow two ticks either way.
CPU_SLACK = 2.0 / TICK

GAUGES = [
    "kobs_group_processes", "kobs_group_resident_memory_bytes", "kobs_group_virtual_memory_bytes",
    "kobs_group_swap_bytes", "kobs_group_peak_resident_memory_bytes", "kobs_group_threads",
    "kobs_group_open_fds", "kobs_group_max_fd_usage_ratio", "kobs_group_oldest_start_time_seconds",
    "kobs_processes_tracked", "kobs_processes_ungrouped",
    "kobs_process_resident_memory_bytes", "kobs_process_open_fds",
]
COUNTERS = [
    "kobs_group_cpu_seconds_total", "kobs_group_context_switches_total",
    "kobs_group_io_bytes_total", "kobs_group_io_syscalls_total", "kobs_group_page_faults_total",
    "kobs_group_runqueue_wait_seconds_total", "kobs_processes_seen_total",
    "kobs_processes_vanished_total", "kobs_process_cpu_seconds_total",
    "kobs_process_io_bytes_total",
]

def comm_of(p):
    return bytes.fromhex(p["comm_hex"]).decode("utf-8", "replace")


def proc_stat(path):
    with open(path, "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK, int(fields[19])  # utime, stime, start


def proc_status(pid, field):
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(field.encode() + b":"):
                return int(line.split()[1])
    return None


def proc_io(pid):
    with open(f"/proc/{pid}/io") as f:
        return {k: int(v) for k, v in (line.split(":") for line in f if ":" in line)}


def btime():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def main():
    d = sys.argv[1]
    with open(f"{d}/workload.json") as f:
        procs = json.load(f)["procs"]
    with open(f"{d}/t0") as f:
        t0 = float(f.read())
    by_role = {}
    for p in procs:
        by_role.setdefault(p["role"], []).append(p)

    # The groups processes.sh's config makes of them, and how many processes each holds.
    argv_tag = bytes.fromhex(by_role["argv"][0]["argv_hex"][1]).decode()
    groups = {"kt_mem": 1, "kt_cpu": 1, "kt_fds": 1, "kt_io": 1, "kt_pp": 2,
              f"argv:{argv_tag}": 1, "kt_workload": 1}
    hostile = {}  # group name (as parsed) -> escaped form as it must appear in the output
    for role in ("quote", "back", "newline", "badutf8"):
        name = comm_of(by_role[role][0])
        groups[name] = 1
        hostile[name] = escape(name)
    hostile[f"argv:{argv_tag}"] = escape(f"argv:{argv_tag}")

    try:
        s1 = Scrape(f"{d}/text1", parse_text)
        s2 = Scrape(f"{d}/text2", parse_text)
        om = Scrape(f"{d}/om", parse_om)
    except Exception as e:  # a parser's verdict is a failure of the output, not of this check
        bad(f"a scrape does not parse: {e!r}")
        return
    ok("both text scrapes and the OpenMetrics scrape parse, as valid UTF-8")

    collector_succeeded(s2, "processes")

    for name in GAUGES:
        t = s2.types.get(name)
        check(t == "gauge", f"{name} is a gauge", f"# TYPE {name}: {t or 'missing'}, not gauge")
    for name in COUNTERS:
        t = s2.types.get(name, s2.types.get(name[: -len("_total")]))
        check(t == "counter", f"{name} is a counter",
              f"# TYPE {name}: {t or 'missing'}, not counter")

    # Every group, with every state, and states that add up to the processes it holds.
    for g, n in groups.items():
        found = s2.find("kobs_group_processes", group=g)
        states = {lab.get("state") for lab, _ in found}
        total = sum(v for _, v in found)
        check(states == STATES and total == n,
              f"group {g!r}: kobs_group_processes has all {len(STATES)} states, adding up to {n}",
              f"group {g!r}: kobs_group_processes states {sorted(s for s in states if s)} add up "
              f"to {total}, want all of {sorted(STATES)} adding up to {n}")

    # Hostile names: escaped in the raw output of both formats, U+FFFD for bytes that are not
    # UTF-8 (parsed above, so present and decodable means the right value).
    for g, esc in hostile.items():
        needle = f'group="{esc}"'.encode()
        for label, sc in (("text", s2), ("OpenMetrics", om)):
            check(needle in sc.raw, f"{label}: group {g!r} is served as {needle.decode()}",
                  f"{label}: no {needle.decode()} in the output (group {g!r})")

    # Memory: 200 MiB touched.
    rss = s2.value("kobs_group_resident_memory_bytes", group="kt_mem")
    if rss is not None:
        check(200 * MIB <= rss < 260 * MIB, f"kt_mem resident {rss / MIB:.1f} MiB, in [200, 260)",
              f'kobs_group_resident_memory_bytes{{group="kt_mem"}} is {rss / MIB:.1f} MiB, not '
              "in [200, 260) MiB")
    peak = s2.value("kobs_group_peak_resident_memory_bytes", group="kt_mem")
    virt = s2.value("kobs_group_virtual_memory_bytes", group="kt_mem")
    swap = s2.value("kobs_group_swap_bytes", group="kt_mem")
    if None not in (rss, peak, virt, swap):
        check(peak >= rss and virt >= rss and swap >= 0,
              "kt_mem peak and virtual memory at least the resident, swap served",
              f"kt_mem: peak {peak}, virtual {virt}, swap {swap} against resident {rss}")
    minflt = s2.value("kobs_group_page_faults_total", group="kt_mem", type="minor")
    major = s2.value("kobs_group_page_faults_total", group="kt_mem", type="major")
    want = by_role["mem"][0]["minflt"]
    if minflt is not None and major is not None:
        check(minflt >= want, f"kt_mem minor page faults {minflt:.0f} >= {want}, one a page",
              f'kobs_group_page_faults_total{{group="kt_mem",type="minor"}} is {minflt}, '
              f"under the {want} the process had when ready")

    # CPU: between the scrapes the burner's true CPU time grew by what the two /proc/PID/stat
    # reads around each scrape bracket; kobsd's figures must fall inside.
    c = [proc_stat(f"{d}/cpu.{i}") for i in range(4)]
    with open(f"{d}/elapsed") as f:
        elapsed = float(f.read())
    for i, mode in ((0, "user"), (1, "system")):
        a = s1.value("kobs_group_cpu_seconds_total", group="kt_cpu", mode=mode)
        b = s2.value("kobs_group_cpu_seconds_total", group="kt_cpu", mode=mode)
        if a is None or b is None:
            continue
        lo, hi = c[2][i] - c[1][i] - CPU_SLACK, c[3][i] - c[0][i] + CPU_SLACK
        check(lo <= b - a <= hi,
              f"kt_cpu {mode} CPU grew {b - a:.2f} s between scrapes, within [{lo:.2f}, {hi:.2f}]",
              f'kobs_group_cpu_seconds_total{{group="kt_cpu",mode="{mode}"}} grew {b - a:.3f} s '
              f"between scrapes; /proc says between {lo:.3f} and {hi:.3f}")
        if mode == "user" and c[2][0] - c[1][0] >= 0.5 * elapsed:
            check(b - a >= 0.5 * elapsed,
                  f"kt_cpu user CPU grew at least half the {elapsed:.2f} s between scrapes",
                  f"kt_cpu user CPU grew {b - a:.3f} s in {elapsed:.2f} s")
        elif mode == "user":
            print(f"# the burner got only {c[2][0] - c[1][0]:.2f} s of CPU in {elapsed:.2f} s "
                  "(a loaded machine): the half-of-elapsed check is left out")

    # Descriptors: the count /proc shows now (the process is idle), and its ratio to the limit.
    fds_pid = by_role["fds"][0]["pid"]
    live = len(os.listdir(f"/proc/{fds_pid}/fd"))
    with open(f"/proc/{fds_pid}/limits") as f:
        soft = int(next(line for line in f if line.startswith("Max open files")).split()[3])
    fds = s2.value("kobs_group_open_fds", group="kt_fds")
    if fds is not None:
        check(fds >= 300 and fds == live, f"kt_fds open fds {fds:.0f} (/proc: {live})",
              f'kobs_group_open_fds{{group="kt_fds"}} is {fds}, /proc shows {live} (>= 300)')
    ratio = s2.value("kobs_group_max_fd_usage_ratio", group="kt_fds")
    if ratio is not None:
        check(abs(ratio - live / soft) <= 1e-6 + 1e-3 * live / soft,
              f"kt_fds fd usage ratio {ratio:.4f} = {live}/{soft}",
              f'kobs_group_max_fd_usage_ratio{{group="kt_fds"}} is {ratio}, want {live}/{soft} = '
              f"{live / soft:.6f}")

    # IO: 64 MiB written and fsync'd; the storage layer only where the filesystem accounts it.
    io = by_role["io"][0]
    io_live = proc_io(io["pid"])
    wb = s2.value("kobs_group_io_bytes_total", group="kt_io", op="write", layer="storage")
    wc = s2.value("kobs_group_io_bytes_total", group="kt_io", op="write", layer="syscall")
    s2.value("kobs_group_io_bytes_total", group="kt_io", op="read", layer="storage")
    s2.value("kobs_group_io_bytes_total", group="kt_io", op="read", layer="syscall")
    sw = s2.value("kobs_group_io_syscalls_total", group="kt_io", op="write")
    s2.value("kobs_group_io_syscalls_total", group="kt_io", op="read")
    if wb is not None:
        if io["write_bytes"] >= 64 * MIB:
            check(wb >= 64 * MIB and wb == io_live["write_bytes"],
                  f"kt_io storage write bytes {wb / MIB:.1f} MiB (/proc agrees)",
                  f'kobs_group_io_bytes_total{{group="kt_io",op="write",layer="storage"}} is '
                  f"{wb}, /proc/PID/io write_bytes is {io_live['write_bytes']} (>= 64 MiB)")
        else:
            print(f"# SKIP storage write bytes: {io['io_dir']} does not account write_bytes "
                  f"(the writer's own /proc/self/io says {io['write_bytes']} after 64 MiB and "
                  "fsync; tmpfs?)")
    if wc is not None and sw is not None:
        check(wc >= 64 * MIB and wc == io_live["wchar"] and sw == io_live["syscw"],
              f"kt_io syscall-level writes: {wc / MIB:.1f} MiB in {sw:.0f} calls (/proc agrees)",
              f"kt_io syscall layer: {wc} bytes in {sw} calls; /proc/PID/io says wchar "
              f"{io_live['wchar']}, syscw {io_live['syscw']}")

    # The rest of the per-group figures, served for every group.
    for g in groups:
        for name, labels in (
            ("kobs_group_threads", {}),
            ("kobs_group_context_switches_total", {"type": "voluntary"}),
            ("kobs_group_context_switches_total", {"type": "involuntary"}),
            ("kobs_group_runqueue_wait_seconds_total", {}),
            ("kobs_group_oldest_start_time_seconds", {}),
            ("kobs_group_cpu_seconds_total", {"mode": "user"}),
            ("kobs_group_cpu_seconds_total", {"mode": "system"}),
            ("kobs_group_open_fds", {}),
            ("kobs_group_io_bytes_total", {"op": "read", "layer": "syscall"}),
        ):
            s2.value(name, group=g, **labels)
        un = [v for lab, v in s2.find("kobs_group_unavailable_processes", group=g) if v > 0]
        check(not un, f"group {g!r}: nothing unavailable (run as root)",
              f"group {g!r}: kobs_group_unavailable_processes {un} while running as root")
    threads = s2.value("kobs_group_threads", group="kt_pp")
    if threads is not None:
        check(threads == 2, "kt_pp threads 2",
              f'kobs_group_threads{{group="kt_pp"}} is {threads}, not 2')
    vol = s2.value("kobs_group_context_switches_total", group="kt_pp", type="voluntary")
    if vol is not None:
        check(vol >= 2, f"kt_pp voluntary context switches {vol:.0f} (both have slept)",
              f"kt_pp voluntary context switches {vol}, want >= 2")
    start = min(btime() + proc_stat(f"/proc/{p['pid']}/stat")[2] / TICK for p in by_role["pp"])
    oldest = s2.value("kobs_group_oldest_start_time_seconds", group="kt_pp")
    if oldest is not None:
        check(abs(oldest - start) <= 1.0 and t0 - 1 <= oldest <= time.time(),
              f"kt_pp oldest start time {oldest:.2f}, /proc says {start:.2f}",
              f'kobs_group_oldest_start_time_seconds{{group="kt_pp"}} is {oldest}, /proc says '
              f"{start:.2f}, the test started at {t0:.0f}")

    # Per-process series: for the per_process entries only, with pid and comm.
    pp_rss = 0
    for p in by_role["pp"] + by_role["badutf8"]:
        g = comm = comm_of(p)
        pid = str(p["pid"])
        v = s2.value("kobs_process_resident_memory_bytes", group=g, pid=pid, comm=comm)
        if v is not None and g == "kt_pp":
            pp_rss += v
        for mode in ("user", "system"):
            s2.value("kobs_process_cpu_seconds_total", group=g, pid=pid, comm=comm, mode=mode)
        s2.value("kobs_process_open_fds", group=g, pid=pid, comm=comm)
        s2.value("kobs_process_io_bytes_total", group=g, pid=pid, comm=comm, op="write",
                 layer="syscall")
    group_rss = s2.value("kobs_group_resident_memory_bytes", group="kt_pp")
    if group_rss is not None and pp_rss:
        check(pp_rss == group_rss, "kt_pp's resident memory is the sum of its processes'",
              f"kt_pp: the processes' resident memory adds up to {pp_rss}, the group's is "
              f"{group_rss}")
    bad_comm = escape(comm_of(by_role["badutf8"][0]))
    needle = f'comm="{bad_comm}"'.encode()
    check(needle in s2.raw, f"per-process comm label served as {needle.decode()}",
          f"no {needle.decode()} in the output")
    stray = [n for n, ss in s2.samples.items() if n.startswith("kobs_process_")
             for lab, _ in ss if lab.get("group") == "kt_mem"]
    check(not stray, "no per-process series for an entry without per_process",
          f"per-process series for kt_mem, which is not per_process: {sorted(set(stray))}")

    # Self metrics.
    seen = s2.value("kobs_processes_seen_total")
    tracked = s2.value("kobs_processes_tracked")
    s2.value("kobs_processes_vanished_total")
    s2.value("kobs_processes_ungrouped")
    n = sum(groups.values())
    if seen is not None and tracked is not None:
        check(seen >= n and tracked >= n, f"seen {seen:.0f} and tracked {tracked:.0f} processes",
              f"kobs_processes_seen_total {seen}, kobs_processes_tracked {tracked}: under the "
              f"workload's {n}")


if __name__ == "__main__":
    main()
    sys.exit(1 if verdicts.failures else 0)
