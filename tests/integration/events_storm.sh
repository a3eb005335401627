#!/bin/bash
# A storm of slow events is rate limited in the kernel, and every event is accounted for: a dd
# copying one byte at a time (kt_storm) makes every read and write a slow event (threshold 0 ns),
# several hundred thousand a second, of which the default rate limit lets 5 a second through.
# After the storm, kobs_events_total + kobs_events_suppressed_total of the syscall kind equal the
# observations the syscall histogram counted (every one crossed the threshold); during it, the
# daemon used under 5% of one core and scrapes answered. bench/events_storm.sh runs it longer.
. "$(dirname "$0")/lib.sh"
require_bpf

mkdir "$WORK/bin"
ln -s "$(command -v dd)" "$WORK/bin/kt_storm"
cat >"$WORK/kobsd.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    comm: [kt_storm]
bpf:
  syscalls: [read, write]
  ungrouped: false
events:
  runqueue: off
  block_io: off
  syscalls: {read: 0ns, write: 0ns}
EOF
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/before"
if [ "${KOBS_VALGRIND:-0}" = 1 ] &&
	grep -q '^kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/before"; then
	skip "under valgrind the bpf collector does not start"
fi

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
seconds=5
ticks0=$(cpu_ticks "$KOBS_PID")
t0=$(date +%s%N)
timeout "$seconds" nice -n 10 "$WORK/bin/kt_storm" if=/dev/zero of=/dev/null bs=1 status=none &
STORM=$!
EXTRA_PIDS+=($STORM)
worst=0
for _ in 1 2 3; do
	sleep 1
	start=$(date +%s%N)
	fetch /metrics -o /dev/null
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$ms" -gt "$worst" ] && worst=$ms
done
wait "$STORM" || true
t1=$(date +%s%N)
ticks1=$(cpu_ticks "$KOBS_PID")
sleep 0.5 # the last events reach the daemon (it reads every 100 ms)
fetch /metrics -o "$WORK/after"

[ "$worst" -lt $(($(scaled 5) * 1000)) ] || fail "a scrape took $worst ms during the storm"
pass "scrapes during the storm answered in $worst ms at worst"

read -r crossings received suppressed lost < <(awk '
	/^kobs_syscall_latency_seconds_count\{group="kt_storm"/ { n += $NF }
	/^kobs_events_total\{kind="syscall",/ { r += $NF }
	/^kobs_events_suppressed_total\{kind="syscall",reason="rate_limit"\}/ { s += $NF }
	/^kobs_events_suppressed_total\{kind="syscall",reason="buffer_full"\}/ { l += $NF }
	END { printf "%d %d %d %d\n", n, r, s, l }' "$WORK/after")
elapsed_ms=$(((t1 - t0) / 1000000))
rate=$((crossings * 1000 / elapsed_ms))
echo "# $crossings timed syscalls of kt_storm in $elapsed_ms ms ($rate a second): $received" \
	"events received, $suppressed suppressed by the rate limit, $lost lost to a full buffer"
[ "$crossings" -gt 0 ] || fail "the storm made no timed syscall: $(grep kt_storm "$WORK/after" | head -n 3)"
[ $((received + suppressed + lost)) = "$crossings" ] ||
	fail "received $received + suppressed $suppressed + lost $lost != $crossings threshold crossings"
pass "every one of the $crossings crossings is accounted for: $received received, $((suppressed + lost)) suppressed"
# The limit is 5 a second, per window of a second: at most 5 per second begun, and a few more
# when two CPUs start the same second at once.
[ "$received" -le $((5 * (elapsed_ms / 1000 + 2) + 4)) ] ||
	fail "$received events received in $elapsed_ms ms with a rate limit of 5 a second"
pass "the rate limit held: $received events received in $elapsed_ms ms"
if [ "$rate" -lt 100000 ]; then
	echo "# the storm made $rate events a second, under the 100,000 the issue asks for (a busy machine?)"
fi

if [ "${KOBS_VALGRIND:-0}" != 1 ]; then
	hz=$(getconf CLK_TCK)
	# percent of one core = ticks / hz / seconds * 100
	cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v ms="$elapsed_ms" \
		'BEGIN { printf "%.1f", t / hz / (ms / 1000) * 100 }')
	awk -v c="$cpu" 'BEGIN { exit !(c < 5) }' ||
		fail "the daemon used $cpu% of a core during a storm of $rate events a second"
	pass "the daemon used $cpu% of a core (under 5%) during the storm of $rate events a second"
fi

# A reload changes the thresholds in the running programs: with the syscalls' off, a second storm
# crosses none (the histogram still counts it).
readable_by_daemon
sed -i 's/syscalls: {read: 0ns, write: 0ns}/syscalls: {read: off, write: off}/' "$WORK/kobsd.yml"
reload_kobsd
grep -q 'take effect when kobsd restarts' "$WORK/kobsd.log" &&
	fail "a reload of the thresholds asks for a restart: $(grep restart "$WORK/kobsd.log")"
# (The first scrape after a reload starts the groups' histograms and event counts again: before
# the storm.)
fetch /metrics -o "$WORK/reloaded0"
read -r received suppressed lost < <(awk '
	/^kobs_events_total\{kind="syscall",/ { r += $NF }
	/^kobs_events_suppressed_total\{kind="syscall",reason="rate_limit"\}/ { s += $NF }
	/^kobs_events_suppressed_total\{kind="syscall",reason="buffer_full"\}/ { l += $NF }
	END { printf "%d %d %d\n", r, s, l }' "$WORK/reloaded0")
timeout 1 nice -n 10 "$WORK/bin/kt_storm" if=/dev/zero of=/dev/null bs=1 status=none || true
sleep 0.5
fetch /metrics -o "$WORK/reloaded"
read -r crossings2 received2 suppressed2 lost2 < <(awk '
	/^kobs_syscall_latency_seconds_count\{group="kt_storm"/ { n += $NF }
	/^kobs_events_total\{kind="syscall",/ { r += $NF }
	/^kobs_events_suppressed_total\{kind="syscall",reason="rate_limit"\}/ { s += $NF }
	/^kobs_events_suppressed_total\{kind="syscall",reason="buffer_full"\}/ { l += $NF }
	END { printf "%d %d %d %d\n", n, r, s, l }' "$WORK/reloaded")
# (A reload gives the groups new ids: the histogram starts again from zero.)
[ "$crossings2" -gt 0 ] || fail "the storm after the reload made no timed syscall"
[ "$received2" = "$received" ] && [ "$suppressed2" = "$suppressed" ] && [ "$lost2" = "$lost" ] ||
	fail "with the thresholds off, events went on: received $received -> $received2," \
		"suppressed $suppressed -> $suppressed2"
pass "after a reload that turns the thresholds off, $crossings2 syscalls make no event"
stop_kobsd || fail "exit status"
