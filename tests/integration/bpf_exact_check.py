#!/usr/bin/python3
"""The judging side of tests/integration/bpf_exact.sh.

  bpf_exact_check.py DIR DROPS WRITES

DIR holds what bpf_exact.sh gathered: text1 and text2, scrapes taken while the sleepers
(kt_s00 .. kt_s69, one group each) were stopped, with sched1 and sched2 ("name run_delay
pcount" per sleeper, from /proc/PID/schedstat) read while they were stopped too, and times (the
two moments they had all stopped); text3, a scrape after DROPS datagrams to a closed port and
WRITES direct writes to the loop device named in the file loop (when there is one).

Prints "ok - ..." for each behaviour that holds and "FAIL: ..." for each that does not, and exits
1 when any failed.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families as parse_text

import verdicts
from verdicts import Scrape, bad, check, collector_succeeded


def schedstat(path):
    with open(path) as f:
        return {name: (int(delay), int(count))
                for name, delay, count in (line.split() for line in f)}


def grew(s1, s2, name, **labels):
    """(count, sum) of one histogram series between two scrapes; None when it is missing."""
    got = []
    for sc in (s1, s2):
        c = sc.value(name + "_count", **labels)
        s = sc.value(name + "_sum", **labels)
        if c is None or s is None:
            return None
        got.append((c, s))
    return got[1][0] - got[0][0], got[1][1] - got[0][1]


def main():
    d, drops, writes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        s1, s2, s3 = (Scrape(f"{d}/text{i}", parse_text) for i in (1, 2, 3))
    except Exception as e:  # a parser's verdict is a failure of the output, not of this check
        bad(f"a scrape does not parse: {e!r}")
        return
    collector_succeeded(s2, "bpf")
    before, after = schedstat(f"{d}/sched1"), schedstat(f"{d}/sched2")
    with open(f"{d}/times") as f:
        t1, t2 = (float(x) for x in f.read().split())

    # Ids are given in the order the sleepers were classified, by pid: kt_s63 and above have
    # ids of 64 (KOBS_CPU_ROWS) and more, counted in the shared rows, the others per CPU.
    wrong_counts, wrong_sums, wrong_offcpu, waits = [], [], [], 0
    for name in sorted(before):
        delay = after[name][0] - before[name][0]
        count = after[name][1] - before[name][1]
        waits += count
        got = grew(s1, s2, "kobs_runqueue_latency_seconds", group=name)
        if got is None:
            continue
        n, total = got
        if n != count:
            wrong_counts.append(f"{name}: {n:.0f} waits, schedstat {count}")
        if abs(total * 1e9 - delay) > 2 + 1e-9 * delay:
            wrong_sums.append(f"{name}: {total * 1e9:.0f} ns, schedstat {delay} ns")
        got = grew(s1, s2, "kobs_offcpu_seconds", group=name)
        if got is None:
            continue
        n, slept = got
        # Asleep or stopped nearly all the time: about what passed between the stops.
        if not (n > 0 and 0.5 * (t2 - t1) <= slept <= (t2 - t1) + 1):
            wrong_offcpu.append(f"{name}: {slept:.3f} s over {n:.0f} naps")
    check(not wrong_counts and waits > 0,
          f"run-queue waits of each of {len(before)} sleepers, per CPU and shared rows alike, "
          f"are the kernel's pcount ({waits} in all)",
          "kobs_runqueue_latency_seconds_count differs from /proc/PID/schedstat's pcount: "
          + "; ".join(wrong_counts[:8]))
    check(not wrong_sums,
          "the run-queue wait of each sleeper is the growth of its run_delay, to the nanosecond",
          "kobs_runqueue_latency_seconds_sum differs from /proc/PID/schedstat's run_delay: "
          + "; ".join(wrong_sums[:8]))
    check(not wrong_offcpu,
          f"each sleeper's off-CPU time is about the {t2 - t1:.2f} s between the stops",
          f"kobs_offcpu_seconds_sum is off for the time between the stops ({t2 - t1:.2f} s): "
          + "; ".join(wrong_offcpu[:8]))

    # No drop of that reason yet: no series.
    d2 = sum(v for _, v in s2.find("kobs_packet_drops_total", reason="no_socket"))
    d3 = s3.value("kobs_packet_drops_total", reason="no_socket")
    if d3 is not None:
        # Other traffic of the machine may add its own.
        check(drops <= d3 - d2 <= 1.5 * drops,
              f"{drops} datagrams to a closed port: no_socket drops grew by {d3 - d2:.0f}",
              f"{drops} datagrams to a closed port, but "
              f'kobs_packet_drops_total{{reason="no_socket"}} grew by {d3 - d2:.0f}')

    try:
        with open(f"{d}/loop") as f:
            loop = f.read().strip()
    except FileNotFoundError:
        return
    found = s3.find("kobs_block_io_latency_seconds_count", device=loop, op="write")
    n = found[0][1] if found else 0
    check(n == writes, f"{writes} direct writes to {loop}: {n:.0f} block I/O writes counted",
          f'kobs_block_io_latency_seconds_count{{device="{loop}",op="write"}} is {n:.0f} '
          f"after {writes} direct writes")


if __name__ == "__main__":
    main()
    sys.exit(1 if verdicts.failures else 0)
