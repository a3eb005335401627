#!/usr/bin/python3
"""The scraping side of tests/integration/processes_churn.sh.

  processes_churn.py URL --seconds S --interval S --timeout S --burst PROGRAM --expiry S
      --give-up S

Scrapes URL every `interval` seconds for at least `seconds` while the group kt_churn forks and
exits all the time, and fails at once (exit 1, the reason on stderr) when:
  - a scrape fails or does not parse;
  - a `_total` series of kobs_group_*, kobs_process_* or kobs_processes_* is lower than the last
    time it was served (a group's series may start again from zero only after the group was gone);
  - kt_churn is missing from a scrape.
Meanwhile it checks that groups appear and vanish: after a few scrapes it starts three
processes of PROGRAM (comm kt_burst; `PROGRAM 600`), between two scrapes, so that the daemon
never sees one before its exec; the next scrape must list kt_burst with 3 processes. A few
seconds later it kills them; the group must then stay listed with 0 processes in every scrape
that ends within expiry - 0.5 s of that, and be gone from the scrapes that start more than
expiry + 1.5 s + the longest scrape after it. Everything happens within `give-up` seconds.
Prints a one-line summary on stdout.
"""
import argparse
import ctypes
import signal
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families as parse_text

STATES = {"running", "sleeping", "disk_sleep", "zombie", "stopped", "idle", "other"}
WATCHED = ("kobs_group_", "kobs_process_", "kobs_processes_")


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def die_with_parent():
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def scrape(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read().decode("utf-8")
    samples = []
    for fam in parse_text(body):
        samples += [(s.name, s.labels, s.value) for s in fam.samples]
    return samples


def groups_of(samples):
    """group -> number of processes (the sum over its states), and which states were served."""
    count, states = {}, {}
    for name, labels, value in samples:
        if name == "kobs_group_processes":
            g = labels.get("group")
            count[g] = count.get(g, 0) + value
            states.setdefault(g, set()).add(labels.get("state"))
    return count, states


def total(samples, name, **want):
    return sum(v for n, lab, v in samples
               if n == name and all(lab.get(k) == w for k, w in want.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--interval", type=float, required=True)
    ap.add_argument("--timeout", type=float, required=True)
    ap.add_argument("--burst", required=True)
    ap.add_argument("--expiry", type=float, required=True)
    ap.add_argument("--give-up", type=float, required=True)
    args = ap.parse_args()

    start = time.time()
    last = {}  # (name, labels) -> value, for the series served so far
    burst = []
    spawned = killed = None  # when the burst started, when it was killed and reaped
    burst_listed = listed_empty = gone = 0
    longest = 0.0
    scrapes = 0
    first = final = None
    try:
        while True:
            t0 = time.time()
            if t0 - start > args.give_up:
                die(f"gave up after {args.give_up:.0f} s: kt_burst was spawned at "
                    f"{spawned and spawned - start}, killed at {killed and killed - start}, and "
                    f"has not vanished in {scrapes} scrapes (expiry {args.expiry} s)")
            try:
                samples = scrape(args.url, args.timeout)
            except Exception as e:
                die(f"scrape {scrapes + 1} failed: {e!r}")
            t1 = time.time()
            scrapes += 1
            if killed is not None:
                longest = max(longest, t1 - t0)
            first = first or samples
            final = samples
            count, states = groups_of(samples)
            where = f"scrape {scrapes} at {t0 - start:.2f} s"

            if "kt_churn" not in count:
                die(f"{where}: no kobs_group_processes{{group=\"kt_churn\"}}")
            for g, st in states.items():
                if st != STATES:
                    die(f"{where}: group {g!r} has states {sorted(st)}, not {sorted(STATES)}")

            # Counters never go backwards while their group lives.
            for key in [k for k in last if dict(k[1]).get("group") not in (None, *count)]:
                del last[key]  # the group has gone: its series may start afresh
            for name, labels, value in samples:
                if not name.endswith("_total") or not name.startswith(WATCHED):
                    continue
                key = (name, tuple(sorted(labels.items())))
                if key in last and value < last[key]:
                    inner = ",".join(f'{k}="{v}"' for k, v in key[1])
                    die(f"{where}: {name}{{{inner}}} went backwards: {last[key]} -> {value}")
                last[key] = value

            # Groups appear and vanish.
            if spawned is None:
                if "kt_burst" in count:
                    die(f"{where}: kt_burst listed before any kt_burst process was started")
                if scrapes >= 3 and t1 - start >= 2:
                    # Popen returns once the child has exec'd (or failed to): no scrape can see
                    # it before its comm is kt_burst.
                    burst = [subprocess.Popen([args.burst, "600"], preexec_fn=die_with_parent)
                             for _ in range(3)]
                    spawned = time.time()
            elif killed is None:
                if count.get("kt_burst") != 3:
                    die(f"{where}: kt_burst has {count.get('kt_burst')} processes, not 3, while "
                        "its 3 processes live")
                burst_listed += 1
                if t1 - spawned >= 2:
                    for p in burst:
                        p.kill()
                    for p in burst:
                        p.wait()
                    killed = time.time()
            else:
                listed = "kt_burst" in count
                if t1 < killed + args.expiry - 0.5:
                    if not listed:
                        die(f"{where}: kt_burst gone {t1 - killed:.2f} s after its processes "
                            f"exited, before its expiry of {args.expiry} s")
                    if count["kt_burst"] != 0:
                        die(f"{where}: kt_burst has {count['kt_burst']} processes after they "
                            "all exited")
                    listed_empty += 1
                elif t0 > killed + args.expiry + 1.5 + longest:
                    if listed:
                        die(f"{where}: kt_burst still listed {t0 - killed:.2f} s after its "
                            f"processes exited (expiry {args.expiry} s)")
                    gone += 1
            if gone and t1 - start >= args.seconds:
                break
            time.sleep(max(0.0, args.interval - (time.time() - t0)))
    finally:
        for p in burst:
            p.kill()
            p.wait()

    if not listed_empty:
        die("no scrape ended soon enough after kt_burst's processes exited to see it listed "
            "with 0 processes")
    cpu = [total(s, "kobs_group_cpu_seconds_total", group="kt_churn") for s in (first, final)]
    seen = [total(s, "kobs_processes_seen_total") for s in (first, final)]
    vanished = [total(s, "kobs_processes_vanished_total") for s in (first, final)]
    if not cpu[1] > cpu[0]:
        die(f"kobs_group_cpu_seconds_total{{group=\"kt_churn\"}} did not grow: {cpu}")
    # Every short-lived process is seen; how many exit in the instant between being listed and
    # being read is the scheduler's choice (9 of some 400 in one run, more in others): some do.
    if not (seen[1] - seen[0] >= 10 and vanished[1] - vanished[0] >= 1):
        die(f"kobs_processes_seen_total went {seen} and kobs_processes_vanished_total "
            f"{vanished}: the churn was not seen")
    print(f"{scrapes} scrapes in {time.time() - start:.1f} s; {len(last)} counter series "
          f"watched; kt_churn CPU {cpu[0]:.2f} -> {cpu[1]:.2f} s; processes seen "
          f"{seen[0]:.0f} -> {seen[1]:.0f}, vanished {vanished[0]:.0f} -> {vanished[1]:.0f}; "
          f"kt_burst listed in {burst_listed} scrapes alive, {listed_empty} empty, gone from "
          f"{gone}")


if __name__ == "__main__":
    main()
