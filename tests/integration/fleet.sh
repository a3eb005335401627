#!/bin/bash
# A fleet in miniature: three kobsd instances on their own loopback ports, one real Prometheus
# scraping them all as one job. Queries that aggregate over `instance` (or keep it apart) must
# see every instance: this is how a fleet's dashboards and alerts read kobsd.
. "$(dirname "$0")/lib.sh"

FLEET=3
FLEET_PIDS=()
FLEET_ADDRS=()

# start_instance N: the real daemon, as start_kobsd runs it, logging to $WORK/kobsd.N.log.
start_instance() {
	local log="$WORK/kobsd.$1.log" flags=(--web.listen-address=127.0.0.1:0) i addr pid
	if "$KOBSD" --help 2>/dev/null | matches '^  bpf '; then
		flags+=(--no-collector.bpf)
	fi
	: >"$log"
	"${KOBSD_RUN[@]}" "${flags[@]}" 2>>"$log" &
	pid=$!
	EXTRA_PIDS+=("$pid")
	FLEET_PIDS+=("$pid")
	for i in $(seq 1 $((20 * $(scaled 10)))); do
		addr=$(sed -n 's/.*listening on \([^,]*\),.*/\1/p' "$log" | head -n 1)
		if [ -n "$addr" ]; then
			FLEET_ADDRS+=("$addr")
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || fail "kobsd instance $1 exited at start: $(tail -n 5 "$log")"
		sleep 0.05
	done
	fail "kobsd instance $1 did not start listening within $(scaled 10) s"
}

# stop_fleet: SIGTERM to every instance and a bounded wait for each; all must exit 0 (and, under
# valgrind, leave a clean report).
stop_fleet() {
	local pid i status
	for pid in "${FLEET_PIDS[@]}"; do
		kill -TERM "$pid"
	done
	for pid in "${FLEET_PIDS[@]}"; do
		for i in $(seq 1 $((20 * $(scaled 10)))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$pid" 2>/dev/null && fail "kobsd $pid did not stop within $(scaled 10) s of SIGTERM"
		status=0
		wait "$pid" || status=$?
		[ "$status" = 0 ] || fail "kobsd $pid exited $status"
	done
	valgrind_verdict || fail "valgrind found problems (above)"
}

# Scrapes every second, as start_prometheus does; a scrape of a daemon under valgrind takes
# longer than that, so the valgrind pass scrapes less often and the rate() windows stretch along.
interval=1
[ "${KOBS_VALGRIND:-0}" = 1 ] && interval=5
window=$((5 * interval))
group_window=$((10 * interval))

start_fleet_prometheus() {
	local port targets="" addr
	command -v prometheus >/dev/null || fail "prometheus not installed (contrib/install-deps.sh installs it)"
	port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	for addr in "${FLEET_ADDRS[@]}"; do
		targets+="${targets:+, }'$addr'"
	done
	cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: ${interval}s
  scrape_timeout: ${interval}s
scrape_configs:
  - job_name: kobsd
    static_configs:
      - targets: [$targets]
YML
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
	EXTRA_PIDS+=($!)
	PROM="http://127.0.0.1:$port"
}

# result_of QUERY: one line per series of an instant query, "LABELS VALUE" with the labels as
# sorted name=value pairs; nothing when the query failed or found nothing.
result_of() {
	prom_query "$1" | "$PYTHON" -c 'import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except Exception:
    sys.exit(0)
for s in r:
    labels = ",".join("%s=%s" % kv for kv in sorted(s["metric"].items()))
    print("{%s} %s" % (labels, s["value"][1]))'
}

# count_of QUERY: how many series the query returns.
count_of() {
	result_of "$1" | grep -c . || true
}

# wait_for QUERY EXPECTED: bounded wait until the query returns EXPECTED series; fails the test
# with the last answer otherwise.
wait_for() {
	local i n
	for i in $(seq 1 $((2 * $(scaled 30)))); do
		n=$(count_of "$1")
		[ "$n" = "$2" ] && return 0
		sleep 0.5
	done
	fail "$1: $n series after $(scaled 30) s, not $2: $(result_of "$1")"
}

for n in $(seq 1 $FLEET); do
	start_instance "$n"
done
[ "$(printf '%s\n' "${FLEET_ADDRS[@]}" | sort -u | wc -l)" = $FLEET ] ||
	fail "the instances do not listen on $FLEET different ports: ${FLEET_ADDRS[*]}"
pass "$FLEET kobsd instances listen on ${FLEET_ADDRS[*]}"

start_fleet_prometheus
up=""
for i in $(seq 1 $((2 * $(scaled 30)))); do
	up=$(result_of 'count(up{job="kobsd"} == 1)' | awk '{print $2}')
	[ "$up" = $FLEET ] && break
	sleep 0.5
done
[ "$up" = $FLEET ] || fail "Prometheus saw ${up:-no} target(s) up, not $FLEET:" \
	"$(curl -sS --max-time 5 "$PROM/api/v1/targets"; tail -n 20 "$WORK/prometheus.log")"
pass "Prometheus scrapes all $FLEET: count(up{job=\"kobsd\"} == 1) == $FLEET"

wait_for 'count by (instance) (kobs_build_info)' $FLEET
seen=$(result_of 'count by (instance) (kobs_build_info)' | sed -n 's/^{instance=\([^}]*\)}.*/\1/p' | sort)
[ "$seen" = "$(printf '%s\n' "${FLEET_ADDRS[@]}" | sort)" ] ||
	fail "the instances Prometheus knows ($seen) are not the fleet's (${FLEET_ADDRS[*]})"
pass "count by (instance) (kobs_build_info): one series per instance, the fleet's addresses"

# Summed over the fleet, a CPU and mode is one series: as many as one instance serves (the fleet
# runs on one host, so every instance has the same CPUs).
modes=$(count_of 'count by (cpu, mode) (kobs_cpu_seconds_total)')
[ "$modes" -gt 0 ] || fail "no kobs_cpu_seconds_total series"
q="sum without (instance) (rate(kobs_cpu_seconds_total[${window}s]))"
wait_for "$q" "$modes"
result_of "$q" | matches 'instance=' && fail "$q kept the instance label"
pass "$q: $modes series, one per CPU and mode, instance summed away"

wait_for 'count(count by (instance) (kobs_group_processes))' 1
n=$(result_of 'count(count by (instance) (kobs_group_processes))' | awk '{print $2}')
[ "$n" = $FLEET ] || fail "count(count by (instance) (kobs_group_processes)) is $n, not $FLEET"
pass "count(count by (instance) (kobs_group_processes)) == $FLEET: every instance serves groups"

q="topk(3, sum by (group) (rate(kobs_group_cpu_seconds_total[${group_window}s])))"
wait_for "$q" 3
result_of "$q" | matches -v '^{group=' && fail "$q: series other than by group: $(result_of "$q")"
pass "$q: the fleet's 3 busiest groups"

errors=$(curl -sS --max-time 5 "$PROM/api/v1/targets" | "$PYTHON" -c 'import json,sys
t = json.load(sys.stdin)["data"]["activeTargets"]
print(";".join(x["scrapeUrl"] + ": " + x["lastError"] for x in t if x["lastError"]))')
[ -z "$errors" ] || fail "scrape errors: $errors"
pass "no scrape errors"

stop_fleet
pass "every instance stopped cleanly"
