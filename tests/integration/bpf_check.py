#!/usr/bin/python3
"""The judging side of tests/integration/bpf.sh.

  bpf_check.py DIR DEVICE

DIR holds what bpf.sh gathered while its workload ran, grouped by comm (kt_burn: four CPU
burners on two cores; kt_sys: a loop of one-byte read and write calls; kt_nap: a process that
sleeps 20 ms at a time; kt_late: a copy of kt_sys started after the daemon; kt_reborn: a shell
started before the daemon, and classified as such, that then execs a copy of kt_sys):
  text1, text2   two text-format scrapes, a few seconds apart, with direct writes to DEVICE (the
                 disk under the file system bpf.sh wrote to) between them
  times          four epoch seconds: before and after scrape 1, before and after scrape 2
  bpf_stats      the value of sysctl kernel.bpf_stats_enabled during the scrapes

Prints "ok - ..." for each behaviour that holds and "FAIL: ..." for each that does not (naming
the series that is missing or wrong), and exits 1 when any failed.
"""
import math
import sys

from prometheus_client.parser import text_string_to_metric_families as parse_text

import verdicts
from verdicts import Scrape, bad, check, collector_succeeded, ok, series

# The histograms of the bpf collector: log2 buckets of nanoseconds, served in seconds.
BPF_HISTOGRAMS = [
    "kobs_runqueue_latency_seconds", "kobs_offcpu_seconds",
    "kobs_block_io_latency_seconds", "kobs_syscall_latency_seconds",
]
# The programs the workload exercises, so each must be attached.
MUST_ATTACH = ["scheduler", "block_io", "syscalls", "process_events"]
# What bpf.sh's config makes of the workload, and what it asks the syscalls program to time.
BURNERS = 4
GROUPS = {"kt_burn", "kt_sys", "kt_nap", "kt_late", "kt_reborn"}
UNGROUPED = "ungrouped"
SYSCALLS = {"read", "write"}

def is_power_of_two_ns(le):
    ns = le * 1e9
    if ns < 0.5:
        return False
    k = round(math.log2(ns))
    return abs(ns - 2.0 ** k) <= 1e-6 * 2.0 ** k


def histogram_problems(fam, log2_ns):
    """What is wrong with each series of one histogram family: a list of strings."""
    problems = []
    by_series = {}
    for s in fam.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        by_series.setdefault(key, {"bucket": [], "sum": None, "count": None})
        part = s.name[len(fam.name) + 1:]
        if part == "bucket":
            by_series[key]["bucket"].append((s.labels.get("le"), s.value))
        elif part in ("sum", "count"):
            by_series[key][part] = s.value
    for key, h in by_series.items():
        name = series(fam.name, dict(key))
        les = []
        for le, _ in h["bucket"]:
            try:
                les.append(float(le))
            except (TypeError, ValueError):
                problems.append(f"{name}: le={le!r} is not a number")
                les.append(math.nan)
        counts = [v for _, v in h["bucket"]]
        if not les or les[-1] != math.inf:
            problems.append(f"{name}: the last bucket is le={h['bucket'][-1][0] if les else None}"
                            ", not +Inf")
        if any(not b > a for a, b in zip(les, les[1:])):
            problems.append(f"{name}: le not strictly increasing: {les}")
        if any(b < a for a, b in zip(counts, counts[1:])):
            problems.append(f"{name}: buckets not cumulative: {counts}")
        if h["count"] is None:
            problems.append(f"{name}: no _count")
        elif counts and les[-1] == math.inf and counts[-1] != h["count"]:
            problems.append(f"{name}: +Inf bucket {counts[-1]} != _count {h['count']}")
        if h["sum"] is None or not h["sum"] >= 0:
            problems.append(f"{name}: _sum is {h['sum']}, want >= 0")
        if log2_ns:
            odd = [le for le in les if le != math.inf and not is_power_of_two_ns(le)]
            if odd:
                problems.append(f"{name}: le not a power of two in ns: {odd}")
    return problems, len(by_series)


def check_histograms(sc):
    """Every histogram family is well formed; the bpf ones have log2 nanosecond buckets."""
    for name in BPF_HISTOGRAMS:
        t = sc.types.get(name)
        check(t == "histogram", f"{name} is a histogram ({sc.label})",
              f"# TYPE {name}: {t or 'missing'}, not histogram ({sc.label})")
    for fam in sc.families.values():
        if fam.type != "histogram":
            continue
        problems, n = histogram_problems(fam, fam.name in BPF_HISTOGRAMS)
        check(not problems and n > 0,
              f"{fam.name}: {n} series, each cumulative, +Inf == _count, _sum >= 0"
              + (", le = 2^k ns" if fam.name in BPF_HISTOGRAMS else "") + f" ({sc.label})",
              f"{fam.name} ({sc.label}): " + ("; ".join(problems[:5]) or "no series"))


def grows(s1, s2, name, **labels):
    """Checks that the _count of one histogram series grew between the scrapes, and returns
    what was observed in between: how many, their sum, and the bound none of them exceeds (the
    le of the first bucket that grew as much as the _count did). None if the series is missing."""
    got = []
    for sc in (s1, s2):
        c = sc.value(name + "_count", **labels)
        s = sc.value(name + "_sum", **labels)
        if c is None or s is None:
            return None
        buckets = {lab["le"]: v for lab, v in sc.find(name + "_bucket", **labels)}
        got.append((c, s, buckets))
    (c1, sum1, b1), (c2, sum2, b2) = got
    check(c2 > c1, f"{series(name + '_count', labels)} grew {c1:.0f} -> {c2:.0f}",
          f"{series(name + '_count', labels)} did not grow between scrapes: {c1} -> {c2}")
    bound = min((float(le) for le, v in b2.items() if v - b1.get(le, 0) >= c2 - c1),
                default=math.inf)
    return c2 - c1, sum2 - sum1, bound


def main():
    d, device = sys.argv[1], sys.argv[2]
    with open(f"{d}/times") as f:
        t1a, t1b, t2a, t2b = (float(x) for x in f.read().split())
    with open(f"{d}/bpf_stats") as f:
        bpf_stats = f.read().strip() == "1"
    short, long = t2a - t1b, t2b - t1a  # the least and the most time between the two readings

    try:
        s1, s2 = Scrape(f"{d}/text1", parse_text), Scrape(f"{d}/text2", parse_text)
    except Exception as e:  # a parser's verdict is a failure of the output, not of this check
        bad(f"a scrape does not parse: {e!r}")
        return
    ok("both text scrapes parse")

    collector_succeeded(s2, "bpf")

    attached = {lab.get("program"): v for lab, v in s2.find("kobs_bpf_program_attached")}
    print(f"# kobs_bpf_program_attached: {attached}")
    for p in MUST_ATTACH:
        check(attached.get(p) == 1, f'kobs_bpf_program_attached{{program="{p}"}} is 1',
              f'kobs_bpf_program_attached{{program="{p}"}} is {attached.get(p, "missing")}')

    check_histograms(s1)
    check_histograms(s2)

    # CPU contention: four burners that sleep a millisecond every few tens of milliseconds, on
    # two cores, wait in the run queue. A wait is counted when it ends, so each burner's waits
    # counted between the scrapes add up to at most the time between them, plus one wait begun
    # before the first scrape (no longer than the bound of the highest bucket that grew).
    got = grows(s1, s2, "kobs_runqueue_latency_seconds", group="kt_burn")
    if got:
        n, waited, longest = got
        most = BURNERS * (long + longest)
        check(0 < waited <= most,
              f"kt_burn waited {waited:.3f} s in the run queue over {n:.0f} waits of at most "
              f"{longest:.3g} s, in {short:.2f}-{long:.2f} s",
              f"kt_burn: run-queue wait grew {waited} s, over {n:.0f} waits of at most "
              f"{longest:.3g} s, in at most {long:.2f} s for {BURNERS} processes: more than "
              f"{most:.2f} s (seconds, not nanoseconds?)")

    # Off-CPU: kt_nap sleeps nearly all the time, one thread, so its off-CPU time grows by about
    # the time between the scrapes (plus at most one sleep begun before the first).
    got = grows(s1, s2, "kobs_offcpu_seconds", group="kt_nap")
    if got:
        n, slept, longest = got
        check(0.3 * short <= slept <= long + longest,
              f"kt_nap off CPU {slept:.3f} s in {short:.2f}-{long:.2f} s ({n:.0f} sleeps)",
              f'kobs_offcpu_seconds_sum{{group="kt_nap"}} grew {slept} s while {short:.2f}-'
              f"{long:.2f} s passed, with the process asleep nearly all of it")

    # Syscalls: kt_sys (dd bs=1) reads and writes one byte at a time; one thread spends less
    # time in system calls than passes (plus one call begun before the first scrape).
    spent, longest = 0.0, 0.0
    for call in ("read", "write"):
        got = grows(s1, s2, "kobs_syscall_latency_seconds", group="kt_sys", syscall=call)
        if got:
            spent += got[1]
            longest = max(longest, got[2])
    check(0 < spent <= long + longest,
          f"kt_sys spent {spent:.3f} s in read and write in at most {long:.2f} s",
          f"kt_sys: time in read and write grew {spent} s in at most {long:.2f} s")
    # A group born of an exec after the daemon started is counted like the others.
    grows(s1, s2, "kobs_syscall_latency_seconds", group="kt_late", syscall="read")
    grows(s1, s2, "kobs_syscall_latency_seconds", group="kt_reborn", syscall="read")
    calls = {lab.get("syscall") for lab, _ in s2.find("kobs_syscall_latency_seconds_count")}
    check(calls <= SYSCALLS, f"only the configured system calls are timed: {sorted(calls)}",
          f"kobs_syscall_latency_seconds serves syscalls {sorted(calls - SYSCALLS)}, though the "
          f"config asks for {sorted(SYSCALLS)}")

    # Block I/O: bpf.sh wrote with O_DIRECT to a file on DEVICE between the scrapes.
    got = grows(s1, s2, "kobs_block_io_latency_seconds", device=device, op="write")
    if got:
        check(got[1] > 0, f"{device} write latency grew {got[1]:.4f} s over {got[0]:.0f} I/Os",
              f"{device} write latency _sum grew {got[1]}, want > 0")
    devices = sorted({lab.get("device") for lab, _ in
                      s2.find("kobs_block_io_latency_seconds_count")})
    ops = sorted({lab.get("op") for lab, _ in s2.find("kobs_block_io_latency_seconds_count")})
    print(f"# block devices: {devices}; ops: {ops}")

    # Groups: the same as the /proc side's, and everything else under the ungrouped label.
    for name in ("kobs_runqueue_latency_seconds", "kobs_offcpu_seconds",
                 "kobs_syscall_latency_seconds"):
        groups = {lab.get("group") for lab, _ in s2.find(name + "_count")}
        check(groups <= GROUPS | {UNGROUPED},
              f"{name}: groups {sorted(groups)} are the config's and {UNGROUPED!r}",
              f"{name}: groups {sorted(groups - GROUPS - {UNGROUPED})} are not in the config")
    outside = {lab.get("group") for lab, _ in s2.find("kobs_runqueue_latency_seconds_count")}
    check(UNGROUPED in outside, f"the rest of the machine waits under group={UNGROUPED!r}",
          f"no kobs_runqueue_latency_seconds series for group={UNGROUPED!r}, though every "
          "process outside the config's groups belongs there")
    for g in sorted(GROUPS):
        n = sum(v for _, v in s2.find("kobs_group_processes", group=g))
        check(n >= 1, f"the /proc side serves group {g!r} too ({n:.0f} processes)",
              f'kobs_group_processes{{group="{g}"}} adds up to {n}')

    lost = s2.value("kobs_bpf_events_lost_total")
    if lost is not None:
        check(lost >= 0 and s2.types.get("kobs_bpf_events_lost_total",
                                         s2.types.get("kobs_bpf_events_lost")) == "counter",
              f"kobs_bpf_events_lost_total is a counter ({lost:.0f})",
              f"kobs_bpf_events_lost_total is {lost}, type "
              f"{s2.types.get('kobs_bpf_events_lost_total', s2.types.get('kobs_bpf_events_lost'))}")

    runs = s2.find("kobs_bpf_program_runs_total")
    if bpf_stats:
        check(runs, f"kernel.bpf_stats_enabled=1: kobs_bpf_program_runs_total has {len(runs)} "
              "series", "kernel.bpf_stats_enabled=1 but kobs_bpf_program_runs_total is missing")
    else:
        check(not runs, "kernel.bpf_stats_enabled=0: no kobs_bpf_program_runs_total",
              f"kernel.bpf_stats_enabled=0 but kobs_bpf_program_runs_total has {len(runs)} series")
    for name in ("kobs_oom_kills_total", "kobs_tcp_retransmits_total", "kobs_packet_drops_total"):
        print(f"# {name}: {len(s2.find(name))} series")


if __name__ == "__main__":
    main()
    sys.exit(1 if verdicts.failures else 0)
