#!/bin/bash
# Slow events of a known load (tests/integration/slow_load.sh: a CPU hog pinned beside a
# latency-sensitive loop, and dd oflag=direct to a file) name the right process and group
# everywhere they go: on /api/events, in the log (logfmt on stderr here; journal.sh checks the
# journal), counted in kobs_events_total, and as exemplars on the matching histogram buckets,
# which the OpenMetrics parser accepts and a real Prometheus with exemplar storage returns.
# A stream resumes after its Last-Event-ID, and a reader that never reads holds back no scrape.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slow_load.sh"
require_bpf

start_slow_load "$(scaled 20)"
start_kobsd --config.file="$SLOW_LOAD_CONFIG"
curl -sS -N --max-time "$(scaled 60)" -o "$WORK/stream" "$KOBS_URL/api/events" 2>"$WORK/stream.err" &
STREAM=$!
EXTRA_PIDS+=($STREAM)
wait_grep '^retry: 1000' "$WORK/stream" || fail "no event stream: $(cat "$WORK/stream.err")"

# Under valgrind the programs may not load (valgrind does not know every bpf() command).
fetch /metrics -o "$WORK/first"
if [ "${KOBS_VALGRIND:-0}" = 1 ] &&
	grep -q '^kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/first"; then
	skip "under valgrind the bpf collector does not start"
fi

release_slow_load
has_event() { grep -q "\"kind\":\"$1\",[^}]*\"pid\":$2," "$WORK/stream"; }
for _ in $(seq 1 $(($(scaled 15) * 4))); do
	has_event runqueue "$LAT_PID" && has_event block_io "$DD_PID" && break
	sleep 0.25
done
check() { "$PYTHON" "$KOBS_SRCDIR/tests/integration/events_check.py" "$@" || fail "(above)"; }

check stream "$WORK/stream" runqueue "$LAT_PID" kt_lat comm=kt_lat tid="$LAT_PID" cpu="$CPU"
check stream "$WORK/stream" block_io "$DD_PID" kt_dd comm=kt_dd device="$DISK" op=write
pass "/api/events: run-queue waits of kt_lat (pid $LAT_PID) and direct writes of kt_dd (pid $DD_PID)"

check log "$WORK/kobsd.log" runqueue 95eefc17c78d43ebbfcfa6abf7cdf282 "$LAT_PID" kt_lat comm=kt_lat
check log "$WORK/kobsd.log" block_io 4e963441c4b94c12808f6bb3d2a1e288 "$DD_PID" kt_dd device="$DISK" op=write
pass "the log has both, each kind with its MESSAGE_ID"

fetch /metrics -H "Accept: application/openmetrics-text; version=1.0.0" -o "$WORK/om"
check exemplar "$WORK/om" kobs_runqueue_latency_seconds "$LAT_PID" kt_lat group=kt_lat
check exemplar "$WORK/om" kobs_block_io_latency_seconds "$DD_PID" kt_dd device="$DISK" op=write
check_openmetrics "$WORK/om"
fetch /metrics -o "$WORK/text"
grep -q ' # {' "$WORK/text" && fail "the text format carries exemplars: $(grep -m1 ' # {' "$WORK/text")"
check_text "$WORK/text"
pass "exemplars on the matching buckets in OpenMetrics (which parses), none in text (promtool silent)"

# In protobuf (what a Prometheus with native histograms asks for) the same exemplars ride in the
# classic buckets.
curl -sS --max-time "$(scaled 10)" -H "Accept: $ACCEPT_PROM_242_NATIVE" -o "$WORK/pb" \
	"$KOBS_URL/metrics" || fail "curl failed"
"$PYTHON" "$KOBS_SRCDIR/tests/integration/metricfamily.py" exemplars "$WORK/pb" >"$WORK/pb.exemplars" ||
	fail "the protobuf exposition does not parse: $(cat "$WORK/pb.exemplars")"
grep -q "^kobs_runqueue_latency_seconds {group=kt_lat} .* {pid=$LAT_PID,comm=kt_lat} " \
	"$WORK/pb.exemplars" || fail "no run-queue exemplar of pid $LAT_PID in protobuf: $(cat "$WORK/pb.exemplars")"
grep -q "^kobs_block_io_latency_seconds {device=$DISK,op=write} .* {pid=$DD_PID,comm=kt_dd} " \
	"$WORK/pb.exemplars" || fail "no block I/O exemplar of pid $DD_PID in protobuf: $(cat "$WORK/pb.exemplars")"
pass "the same exemplars in protobuf: $(wc -l <"$WORK/pb.exemplars") buckets carry one"

grep -q '^kobs_events_total{kind="runqueue",group="kt_lat"} [1-9]' "$WORK/text" &&
	grep -q '^kobs_events_total{kind="block_io",group="kt_dd"} [1-9]' "$WORK/text" ||
	fail "kobs_events_total does not count them: $(grep '^kobs_events' "$WORK/text")"
pass "kobs_events_total counts them by kind and group"

# A stream that resumes after an event's id starts with the next one. (A recent one: the ring
# keeps the last 512, and the hog may have made more.)
id=$(grep '^id: ' "$WORK/stream" | tail -n 3 | head -n 1 | cut -d' ' -f2)
curl -sS -N --max-time "$(scaled 2)" -H "Last-Event-ID: $id" -o "$WORK/resumed" \
	"$KOBS_URL/api/events" 2>/dev/null || true
first=$(grep -m 1 '^id: ' "$WORK/resumed" | cut -d' ' -f2)
[ "$first" = $((id + 1)) ] || fail "resumed after $id, the stream starts at ${first:-nothing}: $(head -c 600 "$WORK/resumed")"
pass "a stream with Last-Event-ID: $id starts at $first"

# A reader that connects and never reads: its frames pile up in its socket; scrapes go on.
"$PYTHON" -c 'import socket, sys, time
s = socket.create_connection(("'"${KOBS_URL#http://}"'".rsplit(":", 1)[0], int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(int(sys.argv[2]))' "${KOBS_URL##*:}" "$(scaled 30)" &
EXTRA_PIDS+=($!)
sleep 1
start=$(date +%s%N)
for _ in 1 2 3; do fetch /metrics -o /dev/null; done
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt $(($(scaled 10) * 1000)) ] || fail "3 scrapes took $ms ms beside a reader that does not read"
pass "3 scrapes in $ms ms beside a stream reader that never reads"

# A real Prometheus with exemplar storage stores and returns them.
start_prometheus --enable-feature=exemplar-storage
query="kobs_block_io_latency_seconds_bucket{device=\"$DISK\",op=\"write\"}"
found=""
for _ in $(seq 1 "$(scaled 20)"); do
	sleep 1
	now=$(date +%s)
	curl -sS --max-time 5 --get --data-urlencode "query=$query" --data-urlencode "start=$((now - 300))" \
		--data-urlencode "end=$((now + 10))" "$PROM/api/v1/query_exemplars" >"$WORK/exemplars" 2>/dev/null || continue
	found=$("$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))["data"]
print(" ".join(e["labels"]["pid"] + ":" + e["value"] for s in d for e in s["exemplars"]
               if e["labels"].get("pid") == sys.argv[2] and e["labels"].get("comm") == "kt_dd"))' \
		"$WORK/exemplars" "$DD_PID" 2>/dev/null || true)
	[ -n "$found" ] && break
done
[ -n "$found" ] || fail "Prometheus returned no exemplar of pid $DD_PID for $query:" \
	"$(cat "$WORK/exemplars"; tail -n 5 "$WORK/prometheus.log")"
pass "Prometheus (exemplar storage) returns kt_dd's exemplars: $found"

kill "$STREAM" 2>/dev/null || true
stop_kobsd || fail "exit status"
