#!/bin/bash
# Unprivileged, the processes collector still serves every group, but what it may not read it
# reports as unavailable, never as zero: run as nobody with the default config (one group per
# comm), the IO and descriptors of a root process are absent from its group and counted in
# kobs_group_unavailable_processes and kobs_procfs_read_errors_total, while a process of nobody's
# own is measured in full. Runs in every pass: under valgrind, valgrind itself runs as nobody.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root, to run the daemon as nobody beside a root process"
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null ||
	skip "no user nobody or group nogroup"
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
"${AS_NOBODY[@]}" cat "/proc/$$/stat" >/dev/null 2>&1 ||
	skip "nobody cannot see root's processes here (/proc mounted with hidepid?)"
"${AS_NOBODY[@]}" cat "/proc/$$/io" >/dev/null 2>&1 &&
	skip "nobody can read a root process's /proc/PID/io here: nothing to test"

daemon_as_nobody

# One process of root's and one of nobody's, each under its own comm, started before the daemon.
mkdir -p "$WORK/bin"
ln -s "$(command -v sleep)" "$WORK/bin/kt_rootio"
ln -s "$(command -v sleep)" "$WORK/bin/kt_nobodyio"
"$WORK/bin/kt_rootio" "$(scaled 120)" &
EXTRA_PIDS+=($!)
"${AS_NOBODY[@]}" "$WORK/bin/kt_nobodyio" "$(scaled 120)" &
EXTRA_PIDS+=($!)

# Since Linux 6.2 the size of /proc/PID/fd is the number of open descriptors, to anyone.
fds_readable=0
size=$("${AS_NOBODY[@]}" stat -c %s "/proc/${EXTRA_PIDS[0]}/fd" 2>/dev/null || echo 0)
[ "$size" -gt 0 ] && fds_readable=1

start_kobsd
uid=$(awk '/^Uid:/ {print $3}' "/proc/$KOBS_PID/status")
[ "$uid" = "$(id -u nobody)" ] || fail "the daemon runs as uid $uid, not nobody"
fetch /metrics -o "$WORK/text"
fetch /metrics -H "Accept: application/openmetrics-text; version=1.0.0" -o "$WORK/om"

"$PYTHON" - "$WORK/text" "$fds_readable" >"$WORK/check.out" 2>&1 <<'PY' || { cat "$WORK/check.out"; fail "$(grep -c '^FAIL' "$WORK/check.out") of the checks failed (above)"; }
import sys
from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    samples = [(s.name, s.labels, s.value) for fam in text_string_to_metric_families(f.read())
               for s in fam.samples]
failures = 0


def check(cond, good, wrong):
    global failures
    print(f"ok - {good}" if cond else f"FAIL: {wrong}")
    failures += not cond


def find(name, **want):
    return [v for n, lab, v in samples
            if n == name and all(lab.get(k) == w for k, w in want.items())]


def fmt(name, **labels):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


success = find("kobs_scrape_collector_success", collector="processes")
check(success == [1], 'kobs_scrape_collector_success{collector="processes"} is 1',
      f'kobs_scrape_collector_success{{collector="processes"}} is {success or "missing"}')
check(len({lab["group"] for n, lab, _ in samples if n == "kobs_group_processes"}) > 1,
      "groups are served", "kobs_group_processes is missing or serves a single group")
for g in ("kt_rootio", "kt_nobodyio"):
    n = find("kobs_group_processes", group=g)
    check(sum(n) == 1, f"{g} holds 1 process", f'{fmt("kobs_group_processes", group=g)} add up to '
          f"{sum(n)} over {len(n)} states, not 1")
    for name in ("kobs_group_cpu_seconds_total", "kobs_group_resident_memory_bytes"):
        check(find(name, group=g), f"{g}: {name} served",
              f"{fmt(name, group=g)} is missing: stat and status are world-readable")

# root's process: IO unavailable, and absent rather than zero. Its descriptors too, unless the
# kernel (6.2 and later) gives their count as the size of /proc/PID/fd to anyone.
fds_readable = sys.argv[2] == "1"
for figure, names in (("io", ("kobs_group_io_bytes_total", "kobs_group_io_syscalls_total")),
                      ("fds", ("kobs_group_open_fds", "kobs_group_max_fd_usage_ratio"))):
    if figure == "fds" and fds_readable:
        un = find("kobs_group_unavailable_processes", group="kt_rootio", figure=figure)
        check(un == [0], "kt_rootio: fds counted from the size of /proc/PID/fd",
              f"kt_rootio fds unavailable is {un or 'missing'}, though the kernel gives the count")
        for name in names:
            check(find(name, group="kt_rootio"), f"kt_rootio: {name} served",
                  f"{fmt(name, group='kt_rootio')} is missing though stat gives the count")
        continue
    un = find("kobs_group_unavailable_processes", group="kt_rootio", figure=figure)
    check(un == [1], f"kt_rootio: 1 process with {figure} unavailable",
          f'{fmt("kobs_group_unavailable_processes", group="kt_rootio", figure=figure)} is '
          f"{un or 'missing'}, not 1")
    for name in names:
        got = find(name, group="kt_rootio")
        check(not got, f"kt_rootio: no {name} (unavailable is not 0)",
              f"{fmt(name, group='kt_rootio')} served ({got}) though nobody cannot read it")
    # nobody's own process is measured in full.
    un = find("kobs_group_unavailable_processes", group="kt_nobodyio", figure=figure)
    check(not any(un), f"kt_nobodyio: nothing unavailable for {figure}",
          f'{fmt("kobs_group_unavailable_processes", group="kt_nobodyio", figure=figure)} is {un}')
    for name in names:
        check(find(name, group="kt_nobodyio"), f"kt_nobodyio: {name} served",
              f"{fmt(name, group='kt_nobodyio')} is missing though nobody may read it")
for op in ("read", "write"):
    for layer in ("storage", "syscall"):
        check(len(find("kobs_group_io_bytes_total", group="kt_nobodyio", op=op, layer=layer)) == 1,
              f"kt_nobodyio: io bytes {op}/{layer} served",
              f'{fmt("kobs_group_io_bytes_total", group="kt_nobodyio", op=op, layer=layer)} '
              "is missing")

denied = find("kobs_procfs_read_errors_total", file="pid/io", reason="permission_denied")
check(denied and denied[0] > 0, f"pid/io permission_denied counted ({denied})",
      'kobs_procfs_read_errors_total{file="pid/io",reason="permission_denied"} is '
      f"{denied or 'missing'}")
sys.exit(1 if failures else 0)
PY
cat "$WORK/check.out"
pass "as nobody, root's IO is unavailable and absent (fds too before Linux 6.2), nobody's own is served"

check_text "$WORK/text"
check_openmetrics "$WORK/om"
pass "both formats parse when figures are unavailable"
stop_kobsd || fail "exit status"
