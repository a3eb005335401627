#!/bin/bash
# collect[] query parameters pick the collectors of one scrape, as node_exporter's do: only their
# families (and the self metrics) are served, only they run, and a name that is unknown or
# disabled is refused with 400 and a message.
. "$(dirname "$0")/lib.sh"

# A textfile that changes its mistake between scrapes tells when the textfile collector ran: it
# logs a problem when it is new.
mkdir "$WORK/tf"
printf 'bad{ 1\n' >"$WORK/tf/bad.prom"
readable_by_daemon
start_kobsd --path.procfs=/proc --collector.textfile.directory="$WORK/tf"
wait_grep 'bad.prom: line 1, column 6' "$WORK/kobsd.log" || fail "the first collection did not read the textfile"
printf 'x 1\nbad{ 1\n' >"$WORK/tf/bad.prom"

# Only system scrapes at first: the processes collector must not run for them.
fetch '/metrics?collect[]=system' -o "$WORK/system"
fetch '/metrics?collect%5B%5D=system' -o "$WORK/system2"
grep -q '^kobs_cpu_seconds_total{' "$WORK/system" || fail "collect[]=system does not serve kobs_cpu_seconds_total"
grep -q '^kobs_cpu_seconds_total{' "$WORK/system2" || fail "collect%5B%5D=system (encoded) is not understood"
! grep -q '^kobs_group_\|^kobs_processes_' "$WORK/system" ||
	fail "collect[]=system serves the processes collector's families"
for self in kobs_build_info process_cpu_seconds_total kobs_scrape_requests_total; do
	grep -q "^$self[{ ]" "$WORK/system" || fail "collect[]=system leaves out the self metric $self"
done
collectors=$(sed -n 's/^kobs_scrape_collector_success{collector="\([a-z_]*\)"}.*/\1/p' "$WORK/system" | tr '\n' ' ')
[ "$collectors" = "system " ] || fail "collect[]=system reports the success of: $collectors"
check_text "$WORK/system"
pass "collect[]=system serves the system collector's families and the self metrics only"

! grep -q 'bad.prom: line 2' "$WORK/kobsd.log" || fail "a collect[]=system scrape ran the textfile collector"
fetch '/metrics?collect[]=textfile' -o /dev/null
grep -q 'bad.prom: line 2, column 6' "$WORK/kobsd.log" || fail "a collect[]=textfile scrape did not run it"
pass "a collect[]=system scrape runs no other collector; collect[]=textfile runs that one"

fetch '/metrics?collect[]=system&collect[]=processes' -H "Accept: $ACCEPT_PROM_242" -H 'Accept-Encoding: gzip' \
	-o "$WORK/both.gz"
gzip -dc "$WORK/both.gz" >"$WORK/both"
grep -q '^kobs_cpu_seconds_total{' "$WORK/both" && grep -q '^kobs_group_processes{' "$WORK/both" ||
	fail "collect[]=system&collect[]=processes does not serve both"
check_openmetrics "$WORK/both"
pass "two collect[] values serve both collectors, in OpenMetrics and gzip too"

fetch '/metrics?collect[]=system' -H "Accept: $ACCEPT_PROM_242_NATIVE" -o "$WORK/system.pb"
names=$("$PYTHON" "$KOBS_SRCDIR/tests/integration/metricfamily.py" names "$WORK/system.pb") ||
	fail "the protobuf answer to collect[]=system does not parse"
grep -qx 'kobs_cpu_seconds_total' <<<"$names" && grep -qx 'kobs_build_info' <<<"$names" ||
	fail "protobuf with collect[]=system lacks system or self families"
! grep -q '^kobs_group_' <<<"$names" || fail "protobuf with collect[]=system serves the processes collector"
pass "collect[]=system in protobuf too"

fetch /metrics -o "$WORK/all"
grep -q '^kobs_cpu_seconds_total{' "$WORK/all" && grep -q '^kobs_group_processes{' "$WORK/all" ||
	fail "a scrape without collect[] does not serve every collector"
pass "without collect[] every collector is served"

# Requests for different collectors at once: each waits for a collection that runs what it
# asked for, and gets exactly that.
pids=()
for i in $(seq 1 12); do
	case $((i % 3)) in
	0) q='' ;;
	1) q='?collect[]=system' ;;
	2) q='?collect[]=processes' ;;
	esac
	curl -sS --max-time "$(scaled 20)" -o "$WORK/par.$i" "$KOBS_URL/metrics$q" &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid" || fail "a concurrent request failed"
done
for i in $(seq 1 12); do
	has_cpu=0 has_group=0
	grep -q '^kobs_cpu_seconds_total{' "$WORK/par.$i" && has_cpu=1
	grep -q '^kobs_group_processes{' "$WORK/par.$i" && has_group=1
	case $((i % 3)) in
	0) want="1 1" ;;
	1) want="1 0" ;;
	2) want="0 1" ;;
	esac
	[ "$has_cpu $has_group" = "$want" ] || fail "concurrent request $i: system/processes served $has_cpu $has_group, want $want"
done
pass "concurrent requests for different collectors each get theirs"

code=$(curl -sS --max-time "$(scaled 10)" -o "$WORK/err" -w '%{http_code}' "$KOBS_URL/metrics?collect[]=nosuch&collect[]=system")
[ "$code" = 400 ] || fail "an unknown collector gets $code, want 400"
grep -q "unknown collector 'nosuch'" "$WORK/err" && grep -q 'known: system, .*processes' "$WORK/err" ||
	fail "the 400 does not name the collector and the known ones: $(cat "$WORK/err")"
code=$(curl -sS --max-time "$(scaled 10)" -o "$WORK/err" -w '%{http_code}' "$KOBS_URL/metrics?collect[]")
[ "$code" = 400 ] || fail "collect[] without a value gets $code, want 400"
code=$(curl -sS --max-time "$(scaled 10)" -o "$WORK/err" -w '%{http_code}' "$KOBS_URL/metrics?collect[]=%1b%5b31m$(printf 'x%.0s' $(seq 200))")
[ "$code" = 400 ] || fail "a hostile collector name gets $code, want 400"
! grep -q $'\x1b' "$WORK/err" && [ "$(wc -c <"$WORK/err")" -lt 400 ] ||
	fail "the 400 echoes the hostile name as it came: $(od -c "$WORK/err" | head -n 3)"
pass "an unknown or empty collector name is refused with 400 naming it, safely"

# The query is cut after 16 arguments, before libmicrohttpd stores them (it hangs past some
# 450): a collect[] beyond is not read, and a thousand arguments are answered at once.
many=$(printf 'x=%s&' $(seq 1 16))
code=$(curl -sS --max-time "$(scaled 10)" -o "$WORK/cut" -w '%{http_code}' "$KOBS_URL/metrics?${many}collect[]=nosuch")
[ "$code" = 200 ] || fail "a collect[] after 16 arguments was read: $code $(head -c 200 "$WORK/cut")"
code=$(curl -sS --max-time "$(scaled 10)" -o "$WORK/cut" -w '%{http_code}' "$KOBS_URL/metrics?collect[]=system&${many}collect[]=nosuch")
[ "$code" = 200 ] && grep -q '^kobs_cpu_seconds_total{' "$WORK/cut" && ! grep -q '^kobs_group_' "$WORK/cut" ||
	fail "the first of 17 arguments, collect[]=system, was not applied: $code"
lots=$(printf 'collect[]=system&%.0s' $(seq 1 1000))
code=$(curl -sS --max-time "$(scaled 10)" -o /dev/null -w '%{http_code}' "$KOBS_URL/metrics?$lots")
[ "$code" = 200 ] || fail "a query of 1000 arguments got $code"
pass "only the first 16 query arguments are read; a thousand are answered at once"
stop_kobsd || fail "exit status"

start_kobsd --no-collector.processes
code=$(curl -sS --max-time "$(scaled 10)" -o "$WORK/err" -w '%{http_code}' "$KOBS_URL/metrics?collect[]=processes")
[ "$code" = 400 ] || fail "a disabled collector gets $code, want 400"
grep -q "collector 'processes' in collect\[\] is disabled" "$WORK/err" || fail "the 400 does not say it is disabled: $(cat "$WORK/err")"
stop_kobsd || fail "exit status"
pass "a disabled collector in collect[] is refused with 400"

# A failed collector may be asked for: its success is 0.
start_kobsd --path.procfs="$WORK/nonexistent"
fetch '/metrics?collect[]=system' -o "$WORK/failed"
grep -q '^kobs_scrape_collector_success{collector="system"} 0$' "$WORK/failed" ||
	fail "collect[] of a failed collector does not report its success 0"
stop_kobsd || fail "exit status"
pass "collect[] of a collector that failed to start reports its success 0"
