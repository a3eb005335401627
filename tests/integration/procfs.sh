#!/bin/bash
# --path.procfs: the system collector reads a procfs tree elsewhere (here, the fixtures), and a
# wrong path is reported, not fatal.
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
fetch / | grep -q 'class="failed">failed: ' || fail "landing page does not show the failure"
check_text "$WORK/body"
stop_kobsd || fail "exit status"
pass "a wrong --path.procfs is reported and the daemon keeps serving"

start_kobsd --no-collector.system
fetch /metrics -o "$WORK/body"
grep -q '^kobs_cpu_seconds_total' "$WORK/body" && fail "disabled collector still served"
fetch / | grep -q 'class="disabled">disabled' || fail "landing page does not show disabled"
stop_kobsd || fail "exit status"
pass "--no-collector.system disables it"
