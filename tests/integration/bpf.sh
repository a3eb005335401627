#!/bin/bash
# The bpf collector measures what the kernel does under a load of known shape: four CPU burners
# on this machine's cores (kt_burn) wait in the run queue, a loop of one-byte reads and writes
# (kt_sys) makes system calls, a process that sleeps 20 ms at a time (kt_nap) spends its life off
# CPU, direct writes reach the disk under $WORK, and kt_late, a copy of kt_sys, starts once the
# daemon serves. A config groups them by comm and times only read and write;
# tests/integration/bpf_check.py compares two scrapes with that load. Then:
# every histogram is well formed, promtool is silent, the daemon holds no capability once it
# serves, a real Prometheus computes a run-queue p99 from the buckets, and started as nobody the
# daemon still serves /proc and says why BPF is off.
. "$(dirname "$0")/lib.sh"

require_bpf

# Direct writes must reach a disk: $WORK, or /var/tmp when $WORK is on tmpfs.
IO_DIR=$WORK
DISK=$(disk_under "$IO_DIR")
if [ -z "$DISK" ]; then
	IO_DIR=$(mktemp -d /var/tmp/kobs-bpf.XXXXXX)
	DISK=$(disk_under "$IO_DIR")
	rm -rf "$IO_DIR"
	[ -n "$DISK" ] ||
		fail "neither $WORK nor /var/tmp is on a block device: nowhere to write to a disk"
	IO_DIR=/var/tmp
fi
# direct_write MIB: MIB MiB written with O_DIRECT, each write a request to $DISK.
direct_write() {
	local file="$IO_DIR/kobs-bpf-direct.$$"
	dd if=/dev/zero of="$file" bs=64k count=$(($1 * 16)) oflag=direct conv=fsync status=none ||
		{ rm -f "$file"; fail "dd oflag=direct to $file failed"; }
	rm -f "$file"
}

# The load, started before the daemon so that each process has its final comm when the daemon
# first sees it. A symlink's name becomes the comm of what it runs. The burners and the syscall
# loop run at nice 19, so that the tests beside this one (make -j) keep their CPU; everything
# ends by itself after $seconds, and cleanup kills it sooner.
seconds=$(scaled 120)
mkdir "$WORK/bin"
ln -s "$(command -v bash)" "$WORK/bin/kt_burn"
ln -s "$(command -v bash)" "$WORK/bin/kt_nap"
ln -s "$(command -v dd)" "$WORK/bin/kt_sys"
ln -s "$(command -v dd)" "$WORK/bin/kt_late"
ln -s "$(command -v dd)" "$WORK/bin/kt_reborn"
mkfifo "$WORK/never"
# Burn for a few tens of milliseconds, sleep one (a wakeup, then a wait behind the others).
burn='exec 3<>"$1"; end=$((SECONDS + $2))
while [ $SECONDS -lt $end ]; do
	for ((i = 0; i < 20000; i++)); do :; done
	read -r -t 0.001 -u 3 || :
done'
# Sleep 20 ms, again and again: no one ever writes to the FIFO.
nap='exec 3<>"$1"; end=$((SECONDS + $2))
while [ $SECONDS -lt $end ]; do read -r -t 0.02 -u 3 || :; done'
for _ in 1 2 3 4; do
	nice -n 19 "$WORK/bin/kt_burn" -c "$burn" kt_burn "$WORK/never" "$seconds" &
	EXTRA_PIDS+=($!)
done
"$WORK/bin/kt_nap" -c "$nap" kt_nap "$WORK/never" "$seconds" &
EXTRA_PIDS+=($!)
# About 400 000 one-byte copies a second here: bounded to $seconds at that pace.
nice -n 19 "$WORK/bin/kt_sys" if=/dev/zero of=/dev/null bs=1 count=$((400000 * seconds)) \
	status=none &
EXTRA_PIDS+=($!)

# A shell the daemon classifies as one (outside every group), which then execs: the exec event
# makes both sides classify it again, into kt_reborn.
reborn_at=$(scaled 3)
bash -c 'sleep "$1"; exec nice -n 19 "$2" if=/dev/zero of=/dev/null bs=1 count="$3" status=none' \
	kt_shell "$reborn_at" "$WORK/bin/kt_reborn" $((400000 * seconds)) &
EXTRA_PIDS+=($!)

cat >"$WORK/kobsd.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    comm: [kt_burn, kt_sys, kt_nap, kt_late, kt_reborn]
bpf:
  syscalls: [read, write]
EOF
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/text0"

# Under valgrind the programs may not load (valgrind does not know every bpf() command): that
# alone is a reason to skip, and only there.
if [ "${KOBS_VALGRIND:-0}" = 1 ] &&
	grep -q '^kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/text0"; then
	why=$(fetch / | grep -o '<td>bpf</td><td class="failed">[^<]*' | sed 's/.*>//')
	skip "under valgrind the bpf collector does not start: ${why:-see the log}"
fi

# Serving means loaded and attached: from then on the daemon holds no capability, in any thread.
held=$(for status in /proc/"$KOBS_PID"/task/*/status; do
	awk -v t="${status%/status}" '/^Cap(Eff|Prm|Bnd):/ && $2 !~ /^0+$/ {
		sub(".*/", "", t); print "thread " t ": " $1 " " $2 }' "$status" 2>/dev/null ||
		[ ! -e "$status" ] # a thread that ended meanwhile
done)
[ -z "$held" ] || fail "kobsd still holds capabilities while serving: $held"
echo "# $(grep '^Cap' "/proc/$KOBS_PID/status" | tr '\n\t' '  ')"
pass "once serving, CapEff, CapPrm and CapBnd are 0 in every thread of kobsd"

# collect[]=bpf alone: the kernel's families, labelled with the groups the processes collector
# keeps current (it runs too), without that collector's own families.
fetch '/metrics?collect[]=bpf' -o "$WORK/bpf_only"
grep -q '^kobs_bpf_program_attached{' "$WORK/bpf_only" || fail "collect[]=bpf serves no bpf family"
! grep -q '^kobs_group_\|^kobs_cpu_seconds_total' "$WORK/bpf_only" || fail "collect[]=bpf serves other collectors' families"
pass "collect[]=bpf serves the bpf collector's families only"

# A process that comes after the daemon: its exec, seen by the process_events program, puts it
# in a new group kt_late, which the other programs count from then on.
nice -n 19 "$WORK/bin/kt_late" if=/dev/zero of=/dev/null bs=1 count=$((400000 * seconds)) \
	status=none &
EXTRA_PIDS+=($!)

# Wait (bounded) until the first reading has every series the checks compare.
# has FILE NAME LABEL...: a sample of NAME carries every LABEL (as k="v").
has() {
	local line label
	line=$(grep "^$2{" "$1") || return 1
	for label in "${@:3}"; do
		line=$(grep -F "$label" <<<"$line") || return 1
	done
}
direct_write 1
ready=0
for _ in $(seq 1 $(($(scaled 15) * 4))); do
	fetch /metrics -o "$WORK/text0"
	if has "$WORK/text0" kobs_runqueue_latency_seconds_count 'group="kt_burn"' &&
		has "$WORK/text0" kobs_offcpu_seconds_count 'group="kt_nap"' &&
		has "$WORK/text0" kobs_syscall_latency_seconds_count 'group="kt_sys"' 'syscall="read"' &&
		has "$WORK/text0" kobs_syscall_latency_seconds_count 'group="kt_late"' 'syscall="read"' &&
		has "$WORK/text0" kobs_syscall_latency_seconds_count 'group="kt_reborn"' 'syscall="read"' &&
		has "$WORK/text0" kobs_group_processes 'group="kt_reborn"' 'state="running"' &&
		has "$WORK/text0" kobs_block_io_latency_seconds_count "device=\"$DISK\"" 'op="write"'; then
		ready=1
		break
	fi
	sleep 0.25
done
[ $ready = 1 ] || echo "# not every series the checks compare showed up in $(scaled 15) s"

now() { date +%s.%N; }
cat /proc/sys/kernel/bpf_stats_enabled >"$WORK/bpf_stats"
{
	now
	fetch /metrics -o "$WORK/text1"
	now
	direct_write 8
	sleep 2
	now
	fetch /metrics -o "$WORK/text2"
	now
} >"$WORK/times"
fetch /metrics -H "Accept: application/openmetrics-text; version=1.0.0" -o "$WORK/om"

"$PYTHON" "$KOBS_SRCDIR/tests/integration/bpf_check.py" "$WORK" "$DISK" >"$WORK/check.out" 2>&1 ||
	{
		cat "$WORK/check.out"
		fail "$(grep -c '^FAIL' "$WORK/check.out") of the bpf checks failed (above)"
	}
cat "$WORK/check.out"
pass "the bpf histograms follow the load (disk $DISK) and are well formed"

check_text "$WORK/text2"
pass "promtool check metrics is silent with the bpf histograms"
check_openmetrics "$WORK/om"
pass "the OpenMetrics parser accepts the bpf histograms"

# A real Prometheus scrapes the daemon under the same load, and computes from the buckets a
# 99th percentile of the burners' run-queue wait: a finite, positive number of seconds.
start_prometheus
p99_query='histogram_quantile(0.99, sum by (le) ('
p99_query+='rate(kobs_runqueue_latency_seconds_bucket{group="kt_burn"}[10s])))'
p99=""
for _ in $(seq 1 "$(scaled 20)"); do
	sleep 1
	p99=$(prom_query "$p99_query" | "$PYTHON" -c 'import json, math, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    v = float(r[0]["value"][1]) if r else math.nan
except Exception:
    v = math.nan
print(v if 0 < v < math.inf else "")')
	[ -n "$p99" ] && break
done
[ -n "$p99" ] || fail "Prometheus found no finite positive $p99_query in $(scaled 20) s:" \
	"$(prom_query "$p99_query"; curl -sS --max-time 5 "$PROM/api/v1/targets"
		tail -n 20 "$WORK/prometheus.log")"
pass "Prometheus: the p99 of kt_burn's run-queue wait is $p99 s"

# Reloads that change the groups but not the bpf: section leave the programs alone and say
# nothing about a restart, however many there are; the timed syscalls keep their names.
readable_by_daemon
for comm in kt_other kt_third; do
	sed -i "s/comm: \[kt_burn,/comm: [$comm, kt_burn,/" "$WORK/kobsd.yml"
	reload_kobsd
done
[ "$(grep -c 'reloaded the configuration' "$WORK/kobsd.log")" -ge 2 ] ||
	fail "two SIGHUPs did not both reload: $(grep -i reload "$WORK/kobsd.log")"
! grep -q 'take effect when kobsd restarts' "$WORK/kobsd.log" ||
	fail "a reload that leaves bpf: alone says it needs a restart: $(grep restart "$WORK/kobsd.log")"
# (The reload starts the groups' histograms again: wait for kt_sys's next syscalls.)
for _ in $(seq 1 $(($(scaled 5) * 4))); do
	fetch /metrics -o "$WORK/reloaded"
	syscalls=$(grep -o '^kobs_syscall_latency_seconds_count{[^}]*}' "$WORK/reloaded" |
		grep -o 'syscall="[^"]*"' | sort -u | tr '\n' ' ')
	[ "$syscalls" = 'syscall="read" syscall="write" ' ] && break
	sleep 0.25
done
[ "$syscalls" = 'syscall="read" syscall="write" ' ] ||
	fail "after two reloads the timed syscalls are labelled $syscalls"
pass "two reloads of the groups: no restart asked for, the timed syscalls keep their names"
stop_kobsd || fail "exit status"

# Unprivileged: no capability to load BPF, so the collector fails at start and says why, once;
# the /proc side serves as ever. nobody needs its own copy of the daemon (the sanitizer pass
# builds where nobody cannot read), of valgrind's wrapper, and of LeakSanitizer's suppressions,
# in a $WORK it owns.
daemon_as_nobody --inh-caps=-all --bounding-set=-all
start_kobsd
fetch /metrics -o "$WORK/nobody"
fetch / -o "$WORK/nobody.html"
grep -q '^kobs_scrape_collector_success{collector="bpf"} 0$' "$WORK/nobody" ||
	fail "as nobody the bpf collector's success is not 0:" \
		"$(grep 'collector="bpf"' "$WORK/nobody" || echo 'not served')"
grep -q '^kobs_scrape_collector_success{collector="processes"} 1$' "$WORK/nobody" ||
	fail "as nobody the processes collector does not succeed"
grep -q '^kobs_group_processes{' "$WORK/nobody" || fail "as nobody no kobs_group_processes is served"
pass "as nobody: bpf is off (success 0), the /proc side serves kobs_group_processes"
lines=$(grep -c 'CAP_BPF' "$WORK/kobsd.log" || true)
if [ "$lines" != 1 ] || ! grep 'CAP_BPF' "$WORK/kobsd.log" | matches 'bpf'; then
	fail "as nobody the log has $lines lines naming CAP_BPF, want one that also says bpf"
fi
echo "# log: $(grep 'CAP_BPF' "$WORK/kobsd.log")"
# Not asked for (no --collector.bpf), so off rather than failed: bpf_not_permitted.sh has more.
row=$(grep -o '<td>bpf</td><td class="off">off: not permitted ([^<]*' "$WORK/nobody.html" || true)
if [ -z "$row" ] || ! grep -q 'CAP_BPF' <<<"$row"; then
	fail "as nobody the landing page does not show the bpf collector off for want of CAP_BPF:" \
		"$(grep '<td>bpf</td>' "$WORK/nobody.html" || echo 'no bpf row')"
fi
echo "# landing page: ${row#*class=\"off\">}"
pass "as nobody: one log line and the landing page say bpf is off for want of CAP_BPF"
check_text "$WORK/nobody"
stop_kobsd || fail "exit status"

# As nobody with CAP_BPF and CAP_PERFMON only, ambient, and a bounding set of those two: what
# systemd/kobsd-bpf.conf gives the service. The programs attach, then the effective and
# permitted sets are empty; without CAP_SETPCAP the bounding set stays, and the log says why.
daemon_as_nobody --inh-caps=-all,+bpf,+perfmon --ambient-caps=+bpf,+perfmon \
	--bounding-set=-all,+bpf,+perfmon
start_kobsd
fetch /metrics -o "$WORK/ambient"
grep -q '^kobs_bpf_program_attached{program="scheduler"} 1$' "$WORK/ambient" ||
	fail "with CAP_BPF and CAP_PERFMON as nobody the scheduler program is not attached:" \
		"$(grep kobs_bpf_program_attached "$WORK/ambient")"
for set in CapEff CapPrm CapAmb; do
	v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$KOBS_PID/status")
	[ "$v" = 0000000000000000 ] || fail "with the unit's capabilities, $set is $v after start"
done
grep -q 'the bounding set keeps CAP_PERFMON CAP_BPF (no CAP_SETPCAP' "$WORK/kobsd.log" ||
	fail "the log does not say why the bounding set stays: $(grep -i capabilit "$WORK/kobsd.log")"
pass "as nobody with CAP_BPF+CAP_PERFMON: attached, then CapEff, CapPrm and CapAmb are 0"
stop_kobsd || fail "exit status"
