#!/bin/bash
# CPU per scrape and resident memory of kobsd's host collectors, side by side with Debian's
# node_exporter running the same set of collectors, in one run. Targets (issue 16): node_exporter
# at least 3x kobsd's CPU per scrape, kobsd's RSS under 8 MiB.
#
#   bench/host_cost.sh [ROUNDS] [SCRAPES_PER_ROUND]
#
# Both daemons serve diskstats, netdev, netstat, filesystem, sockstat, uname and time (+ timex)
# with the same device and mount filters, and nothing else (kobsd: --no-collector.system,
# processes, bpf). ROUNDS rounds (default 20) of SCRAPES_PER_ROUND scrapes of each (default 20),
# interleaved so that the machine's noise hits both alike, each over one keep-alive connection
# with the headers Prometheus sends (OpenMetrics, gzip). A daemon's CPU is the utime + stime delta
# of /proc/PID/stat over its scrapes. Everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-20}
PER_ROUND=${2:-20}
KOBSD=${KOBSD:-./src/kobsd}
NODE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -x "$KOBSD" ] || { echo "build kobsd first (make)" >&2; exit 1; }
[ -n "$NODE" ] || { echo "apt-get install prometheus-node-exporter" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	[ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { sed 's/.*) //' /proc/"$1"/stat | awk '{print $12 + $13}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }
ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
HZ=$(getconf CLK_TCK)
DISK_EXCLUDE='^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$'

kport=$(free_port)
"$KOBSD" --web.listen-address=127.0.0.1:"$kport" --no-collector.system --no-collector.processes \
	$(grep -q '^  bpf ' <("$KOBSD" --help) && echo --no-collector.bpf) --log.level=warn &
PIDS+=($!)
kpid=$!
nport=$(free_port)
"$NODE" --web.listen-address=127.0.0.1:"$nport" --collector.disable-defaults \
	--collector.diskstats --collector.netdev --collector.netstat --collector.filesystem \
	--collector.sockstat --collector.uname --collector.time --collector.timex \
	--collector.diskstats.device-exclude="$DISK_EXCLUDE" >"$WORK/node.log" 2>&1 &
PIDS+=($!)
npid=$!
kurl="http://127.0.0.1:$kport/metrics"
nurl="http://127.0.0.1:$nport/metrics"
for url in "$kurl" "$nurl"; do
	for i in $(seq 1 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
	curl -sf -o /dev/null "$url" || { echo "no answer from $url" >&2; exit 1; }
done

scrape_n() {
	local url=$1 n=$2 args=()
	for i in $(seq 1 "$n"); do args+=(-o /dev/null "$url"); done
	curl -sf -H "Accept: $ACCEPT" -H 'Accept-Encoding: gzip' "${args[@]}"
}
# Warm-up: first scrapes allocate what later ones reuse (and start kobsd's statvfs helper).
scrape_n "$kurl" 3
scrape_n "$nurl" 3

k_ticks=0 n_ticks=0
for _ in $(seq 1 "$ROUNDS"); do
	a=$(cpu_ticks "$npid"); scrape_n "$nurl" "$PER_ROUND"; b=$(cpu_ticks "$npid")
	n_ticks=$((n_ticks + b - a))
	a=$(cpu_ticks "$kpid"); scrape_n "$kurl" "$PER_ROUND"; b=$(cpu_ticks "$kpid")
	k_ticks=$((k_ticks + b - a))
done
k_series=$(curl -sf "$kurl" | grep -c '^kobs_\(disk\|network\|netstat\|filesystem\|sockstat\|uname\|time\)')
n_series=$(curl -sf "$nurl" | grep -c '^node_\(disk\|network\|netstat\|filesystem\|sockstat\|uname\|time\)')

awk -v n="$((ROUNDS * PER_ROUND))" -v hz="$HZ" -v kt="$k_ticks" -v nt="$n_ticks" \
	-v kr="$(rss_kib "$kpid")" -v nr="$(rss_kib "$npid")" -v ks="$k_series" -v ns="$n_series" 'BEGIN {
	k = kt / hz / n * 1000; m = nt / hz / n * 1000
	printf "collectors: diskstats netdev netstat filesystem sockstat uname time (+timex)\n"
	printf "%-15s %8s %14s %10s %8s\n", "", "scrapes", "CPU/scrape", "RSS", "series"
	printf "%-15s %8d %11.3f ms %6.1f MiB %8d\n", "node_exporter", n, m, nr / 1024, ns
	printf "%-15s %8d %11.3f ms %6.1f MiB %8d\n", "kobsd", n, k, kr / 1024, ks
	printf "ratio node_exporter/kobsd CPU: %.1fx (target >= 3)\n", m / (k > 0 ? k : 1e-9)
	printf "kobsd RSS: %.1f MiB (target < 8)\n", kr / 1024
}'
