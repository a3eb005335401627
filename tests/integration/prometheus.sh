#!/bin/bash
# A real Prometheus server scrapes kobsd every second; its API must show the target up and the
# kobsd series queryable.
. "$(dirname "$0")/lib.sh"

start_kobsd
start_prometheus

up=""
for i in $(seq 1 60); do
	up=$(prom_query 'up{job="kobsd"}' | "$PYTHON" -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")')
	[ "$up" = 1 ] && break
	sleep 0.5
done
[ "$up" = 1 ] || fail "Prometheus never saw the target up: $(curl -sS --max-time 5 "$PROM/api/v1/targets"; tail -n 20 "$WORK/prometheus.log")"
pass "Prometheus scrapes kobsd: up == 1"

# Wait for a few scrapes so that rate() has two points.
sleep 3
for q in 'kobs_build_info' 'kobs_cpu_seconds_total' 'rate(kobs_cpu_seconds_total[5s])' \
	'kobs_memory_total_bytes' 'kobs_scrape_collector_success' 'process_resident_memory_bytes'; do
	n=$(prom_query "$q" | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')
	[ "$n" -gt 0 ] || fail "no result for $q"
done
pass "kobsd series are queryable, rate() included"

errors=$(curl -sS --max-time 5 "$PROM/api/v1/targets" | "$PYTHON" -c 'import json,sys
t = json.load(sys.stdin)["data"]["activeTargets"]
print(";".join(x["lastError"] for x in t if x["lastError"]))')
[ -z "$errors" ] || fail "scrape errors: $errors"
pass "no scrape errors"
stop_kobsd || fail "exit status"
