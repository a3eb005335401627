#!/bin/bash
# A real Prometheus server scrapes kobsd every second; its API must show the target up and the
# kobsd series queryable.
. "$(dirname "$0")/lib.sh"

PROMETHEUS=$(command -v prometheus || true)
[ -n "$PROMETHEUS" ] || fail "prometheus not installed (contrib/install-deps.sh installs it)"

start_kobsd
target=${KOBS_URL#http://}
prom_port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kobsd
    static_configs:
      - targets: ['$target']
YML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
EXTRA_PIDS+=($!)
PROM="http://127.0.0.1:$prom_port"

query() {
	curl -sS --max-time 5 --get --data-urlencode "query=$1" "$PROM/api/v1/query" 2>/dev/null || true
}

up=""
for i in $(seq 1 60); do
	up=$(query 'up{job="kobsd"}' | "$PYTHON" -c 'import json,sys
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
	n=$(query "$q" | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')
	[ "$n" -gt 0 ] || fail "no result for $q"
done
pass "kobsd series are queryable, rate() included"

errors=$(curl -sS --max-time 5 "$PROM/api/v1/targets" | "$PYTHON" -c 'import json,sys
t = json.load(sys.stdin)["data"]["activeTargets"]
print(";".join(x["lastError"] for x in t if x["lastError"]))')
[ -z "$errors" ] || fail "scrape errors: $errors"
pass "no scrape errors"
stop_kobsd || fail "exit status"
