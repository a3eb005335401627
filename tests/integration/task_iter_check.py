"""Compare what the daemon serves from its task iterator with /proc, for the steady loads of
tests/integration/task_iter.sh:

  task_iter_check.py METRICS GROUP=PID...

For each GROUP=PID: the group's storage write bytes equal /proc/PID/io's write_bytes within 5%;
its context switches and run-queue wait equal the sums over /proc/PID/task/*/ within 5% (every
thread, not the main thread's); with threads: true, kobs_threads_by_name of ti_worker is the number
of such threads; with wchan: true, kobs_group_waiting_threads equals the count of sleeping threads
by /proc/PID/task/*/wchan. Prints one line per check; exits 1 when one fails."""
import collections
import os
import re
import sys

LINE = re.compile(r'^(\w+)\{(.*)\} (\S+)$')


def samples(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if m:
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
                out[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
    return out


def get(s, name, **labels):
    return s.get((name, tuple(sorted(labels.items()))))


def tasks(pid):
    return sorted(os.listdir(f"/proc/{pid}/task"), key=int)


def status_field(path, key):
    with open(path, encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def proc_io(pid, key):
    with open(f"/proc/{pid}/io", encoding="ascii") as f:
        for line in f:
            k, v = line.split(":")
            if k == key:
                return int(v)
    raise KeyError(key)


failures = 0


def check(ok, what):
    global failures
    print(("ok  " if ok else "FAIL") + " " + what)
    failures += 0 if ok else 1


def near(a, b):
    return a is not None and abs(a - b) <= 0.05 * max(abs(a), abs(b), 1)


def main():
    s = samples(sys.argv[1])
    for arg in sys.argv[2:]:
        group, pid = arg.split("=")
        wb = proc_io(pid, "write_bytes")
        served = get(s, "kobs_group_io_bytes_total", group=group, op="write", layer="storage")
        check(near(served, wb), f"{group}: served write bytes {served}, /proc/{pid}/io {wb}")
        unavailable = get(s, "kobs_group_unavailable_processes", group=group, figure="io")
        check(unavailable == 0, f"{group}: io unavailable for {unavailable} processes")
        ids = tasks(pid)
        if len(ids) == 1:
            continue
        for kind, key in (("voluntary", "voluntary_ctxt_switches"),
                          ("involuntary", "nonvoluntary_ctxt_switches")):
            total = sum(status_field(f"/proc/{pid}/task/{t}/status", key) for t in ids)
            main_only = status_field(f"/proc/{pid}/status", key)
            served = get(s, "kobs_group_context_switches_total", group=group, type=kind)
            check(near(served, total),
                  f"{group}: {kind} context switches served {served}, sum over "
                  f"{len(ids)} threads {total} (main thread alone {main_only})")
        wait = 0
        for t in ids:
            with open(f"/proc/{pid}/task/{t}/schedstat", encoding="ascii") as f:
                wait += int(f.read().split()[1])
        served = get(s, "kobs_group_runqueue_wait_seconds_total", group=group)
        check(served is not None and near(served * 1e9, wait),
              f"{group}: run-queue wait served {served} s, sum over threads {wait / 1e9} s")
        workers = 0
        chans = collections.Counter()
        for t in ids:
            with open(f"/proc/{pid}/task/{t}/comm", encoding="utf-8") as f:
                workers += f.read().strip() == "ti_worker"
            with open(f"/proc/{pid}/task/{t}/stat", encoding="utf-8") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in "SD":
                with open(f"/proc/{pid}/task/{t}/wchan", encoding="utf-8") as f:
                    chans[f.read().strip() or "unknown"] += 1
        served = get(s, "kobs_threads_by_name", group=group, threadname="ti_worker")
        check(served == workers, f"{group}: kobs_threads_by_name of ti_worker {served}, "
              f"/proc {workers}")
        cpu = get(s, "kobs_thread_cpu_seconds_total", group=group, threadname="ti_worker",
                  mode="user")
        check(cpu is not None and cpu > 0, f"{group}: ti_worker user CPU {cpu} s")
        for chan, n in sorted(chans.items()):
            served = get(s, "kobs_group_waiting_threads", group=group, wchan=chan)
            check(served == n, f"{group}: {n} threads wait in {chan}, served {served}")
    sys.exit(1 if failures else 0)


main()
