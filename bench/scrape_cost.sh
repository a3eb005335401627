#!/bin/bash
# CPU per scrape and resident memory of kobsd's system-wide metrics, measured side by side with
# node_exporter collecting the same files (cpu, stat, meminfo, vmstat, loadavg, pressure), in
# one run and interleaved, so that the machine's noise hits both alike. Prints the ratios.
#
#   bench/scrape_cost.sh [SCRAPES_PER_ROUND] [ROUNDS]
#
# CPU is the sum of every thread's on-CPU time from /proc/PID/task/*/schedstat (nanoseconds),
# so short scrapes are measured precisely. Scrapes are sent the way Prometheus sends them
# (OpenMetrics Accept header, gzip allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
ROUNDS=${2:-5}
KOBSD=${KOBSD:-./src/kobsd}
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -x "$KOBSD" ] || { echo "build kobsd first (make)" >&2; exit 1; }
[ -n "$NODE_EXPORTER" ] || { echo "apt-get install prometheus-node-exporter" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%d\n", s}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }
ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

kport=$(free_port)
"$KOBSD" --web.listen-address=127.0.0.1:"$kport" --log.level=warn &
PIDS+=($!)
kpid=$!
nport=$(free_port)
"$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$nport" --log.level=warn \
	--collector.disable-defaults --collector.cpu --collector.stat --collector.meminfo \
	--collector.vmstat --collector.loadavg --collector.pressure 2>/dev/null &
PIDS+=($!)
npid=$!
for url in "http://127.0.0.1:$kport/metrics" "http://127.0.0.1:$nport/metrics"; do
	for i in $(seq 1 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
done

# N scrapes over one keep-alive connection, like a Prometheus server does.
scrape_n() {
	local url=$1 args=()
	for i in $(seq 1 "$N"); do args+=(-o /dev/null "$url"); done
	curl -sf -H "Accept: $ACCEPT" -H 'Accept-Encoding: gzip' "${args[@]}"
}

k_total=0 n_total=0
for r in $(seq 1 "$ROUNDS"); do
	a=$(cpu_ns "$kpid"); scrape_n "http://127.0.0.1:$kport/metrics"; b=$(cpu_ns "$kpid")
	k_total=$((k_total + b - a))
	a=$(cpu_ns "$npid"); scrape_n "http://127.0.0.1:$nport/metrics"; b=$(cpu_ns "$npid")
	n_total=$((n_total + b - a))
done
scrapes=$((N * ROUNDS))
k_rss=$(rss_kib "$kpid")
n_rss=$(rss_kib "$npid")
k_series=$(curl -sf "http://127.0.0.1:$kport/metrics" | grep -vc '^#')
n_series=$(curl -sf "http://127.0.0.1:$nport/metrics" | grep -vc '^#')

awk -v s="$scrapes" -v k="$k_total" -v n="$n_total" -v kr="$k_rss" -v nr="$n_rss" \
	-v ks="$k_series" -v ns="$n_series" 'BEGIN {
	printf "scrapes per exporter: %d (interleaved rounds)\n", s
	printf "%-14s %12s %12s %10s\n", "", "CPU/scrape", "RSS", "samples"
	printf "%-14s %9.1f us %9.1f MiB %10d\n", "kobsd", k / s / 1000, kr / 1024, ks
	printf "%-14s %9.1f us %9.1f MiB %10d\n", "node_exporter", n / s / 1000, nr / 1024, ns
	printf "ratio node_exporter/kobsd: CPU per scrape %.1fx, resident memory %.1fx\n", n / k, nr / kr
}'
