#!/bin/bash
# --path.procfs: the system collector reads a procfs tree elsewhere (here, the fixtures), and a
# wrong path is reported, not fatal. The processes collector reads the live /proc whatever
# --path.procfs says (libproc2 reads no other path), so the cases that count read errors leave
# it out.
. "$(dirname "$0")/lib.sh"

start_kobsd --path.procfs="$KOBS_FIXTURES/proc"
fetch /metrics -o "$WORK/body"
memtotal_kb=$(awk '/^MemTotal:/ {print $2}' "$KOBS_FIXTURES/proc/meminfo")
want=$((memtotal_kb * 1024))
grep -q "^kobs_memory_total_bytes $want\$" "$WORK/body" ||
	fail "kobs_memory_total_bytes is not $want from the fixture: $(grep '^kobs_memory_total_bytes' "$WORK/body")"
btime=$(awk '/^btime/ {print $2}' "$KOBS_FIXTURES/proc/stat")
grep -q "^kobs_boot_time_seconds $btime\$" "$WORK/body" || fail "boot time is not the fixture's"
check_text "$WORK/body"
stop_kobsd || fail "exit status"
pass "--path.procfs reads the given tree"

start_kobsd --path.procfs="$WORK/nonexistent"
fetch /metrics -o "$WORK/body"
grep -q '^kobs_scrape_collector_success{collector="system"} 0$' "$WORK/body" ||
	fail "a failed collector is not reported with success 0"
grep -q '^kobs_build_info{' "$WORK/body" || fail "self metrics missing when a collector failed"
grep -q 'collector system failed to start' "$WORK/kobsd.log" || fail "failure not logged"
# Each collector that reads a file at start names it and says what to check; a system-wide file
# may also be hidden by systemd's ProcSubset=pid, which a process's own files are not.
for file in stat diskstats net/dev net/snmp net/sockstat self/mountinfo; do
	hint=" (systemd's ProcSubset=pid hides it)"
	[ "${file#self/}" = "$file" ] || hint=";"
	matches -F "$WORK/nonexistent/$file: No such file or directory — is --path.procfs right?$hint" \
		"$WORK/kobsd.log" || fail "the start failure does not name $file with its hint"
done
fetch / | matches 'class="failed">failed: ' || fail "landing page does not show the failure"
check_text "$WORK/body"
stop_kobsd || fail "exit status"
pass "a wrong --path.procfs is reported and the daemon keeps serving"

start_kobsd --no-collector.system
fetch /metrics -o "$WORK/body"
grep -q '^kobs_cpu_seconds_total' "$WORK/body" && fail "disabled collector still served"
fetch / | matches 'class="disabled">disabled' || fail "landing page does not show disabled"
stop_kobsd || fail "exit status"
pass "--no-collector.system disables it"

# A hostile procfs: files truncated, empty, garbage, too large, of the wrong kind, or vanishing
# between scrapes. One daemon reads a copy of the fixtures that each case then spoils; every
# answer must still parse (promtool, and the OpenMetrics parser), and each failure is counted in
# kobs_procfs_read_errors_total under the file and reason.
proc="$WORK/hostile"
mkdir -p "$proc"
cp -r "$KOBS_FIXTURES/proc/." "$proc/"
restore() { # restore FILE: the fixture's copy again
	rm -rf "${proc:?}/$1"
	cp "$KOBS_FIXTURES/proc/$1" "$proc/$1"
}
scrape_hostile() { # scrape_hostile CASE: both formats must parse; the text one is left in $WORK/body
	fetch /metrics -o "$WORK/body"
	check_text "$WORK/body"
	fetch /metrics -H "Accept: $ACCEPT_PROM_242" -o "$WORK/body.om"
	check_openmetrics "$WORK/body.om"
}
errors() { # errors FILE REASON: the count served in $WORK/body, 0 when there is none
	local v
	v=$(sed -n "s|^kobs_procfs_read_errors_total{file=\"$1\",reason=\"$2\"} ||p" "$WORK/body")
	echo "${v:-0}"
}
expect_counted() { # expect_counted FILE REASON CASE: the count went up since the last case
	local key="$1/$2" now
	scrape_hostile "$3"
	now=$(errors "$1" "$2")
	[ "$now" -gt "${seen[$key]:-0}" ] ||
		fail "$3: kobs_procfs_read_errors_total{file=\"$1\",reason=\"$2\"} is $now, not more than ${seen[$key]:-0}"
	seen[$key]=$now
}
declare -A seen

readable_by_daemon
start_kobsd --path.procfs="$proc" --no-collector.processes
scrape_hostile "clean copy"
grep -q '^kobs_procfs_read_errors_total{' "$WORK/body" && fail "read errors on the clean copy"

: >"$proc/meminfo"
expect_counted meminfo parse_error "empty meminfo"
grep -q '^kobs_memory_total_bytes' "$WORK/body" && fail "memory figures served from an empty file"
grep -q '^kobs_cpu_seconds_total{cpu="0",mode="user"}' "$WORK/body" || fail "empty meminfo took stat along"
restore meminfo

"$PYTHON" -c 'import random, sys; r = random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(8192)))' >"$proc/vmstat"
expect_counted vmstat parse_error "random bytes for vmstat"
restore vmstat

printf '0.5' >"$proc/loadavg"
expect_counted loadavg parse_error "loadavg cut short"
restore loadavg

head -c 100 "$KOBS_FIXTURES/proc/stat" >"$proc/stat"
scrape_hostile "stat cut in its first lines"
grep -q '^kobs_scrape_collector_success{collector="system"} [01]$' "$WORK/body" ||
	fail "no collector success after a cut stat"
restore stat

printf 'cpu  not numbers at all\n\0\0\0\n' >"$proc/stat"
expect_counted stat parse_error "garbage stat"
grep -q '^kobs_scrape_collector_success{collector="system"} 0$' "$WORK/body" ||
	fail "a garbage stat did not fail the collector"
grep -q '^kobs_memory_total_bytes' "$WORK/body" || fail "garbage stat took meminfo along"
restore stat

rm "$proc/pressure/cpu"
expect_counted pressure/cpu not_found "pressure/cpu vanished"
grep -q '^kobs_pressure_stalled_seconds_total{resource="io"' "$WORK/body" ||
	fail "the other pressure files were left out"
restore pressure/cpu

rm "$proc/softirqs"
mkdir "$proc/softirqs"
expect_counted softirqs io_error "softirqs is a directory"
restore softirqs

# Names that become label values: quotes, backslashes, newline-like bytes, invalid UTF-8.
printf '          CPU0\n  BAD"NAME\\\xff\xfe:  1\n  \xc3\x28TIMER:  2\n     NET_RX:  3\n' >"$proc/softirqs"
scrape_hostile "softirqs with hostile names"
restore softirqs

{
	cat "$KOBS_FIXTURES/proc/meminfo"
	printf 'Huge:  99999999999999999999999 kB\nNUL:\0\0 12 kB\nMemTotal: -1 kB\n'
	head -c 2000000 /dev/zero | tr '\0' 'x'
} >"$proc/meminfo"
scrape_hostile "meminfo with overflowing, NUL and negative values and 2 MB of junk"
memtotal=$(($(awk '/^MemTotal:/ {print $2; exit}' "$KOBS_FIXTURES/proc/meminfo") * 1024))
grep -q "^kobs_memory_total_bytes $memtotal\$" "$WORK/body" ||
	fail "the valid MemTotal line was lost among the junk"
restore meminfo

scrape_hostile "restored"
grep -q '^kobs_scrape_collector_success{collector="system"} 1$' "$WORK/body" ||
	fail "the collector did not recover once the files were whole again"
kill -0 "$KOBS_PID" || fail "the daemon died"
stop_kobsd || fail "exit status"
pass "a hostile procfs (empty, cut, garbage, oversized, vanished, wrong kind, hostile names) is" \
	"counted in kobs_procfs_read_errors_total and every answer still parses"
