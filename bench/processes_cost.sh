#!/bin/bash
# CPU per scrape and resident memory of kobsd's processes collector with about 1,000 processes,
# side by side with process-exporter on the same process_names config and with a plain C loop
# that reads the same /proc files (bench/proc_loop.c). The targets (docs: the brief's "Targets"):
# process-exporter/kobsd CPU at least 10x, kobsd/plain loop at most 2x, kobsd RSS under 8 MiB.
# Run as root in a build with the bpf collector, it also measures a third daemon whose processes
# collector reads the bpf collector's task iterator (bpf.programs: [task_iter] only, so that no
# other program's work is in its figures; the iterator runs in the daemon's read(), so its cost is
# in the daemon's system time): target, the iterator path at least 5x cheaper than the /proc one.
#
#   bench/processes_cost.sh [EXTRA_PROCESSES] [ROUNDS] [KOBSD_SCRAPES_PER_ROUND]
#
# It starts EXTRA_PROCESSES (default 1000) sleepers under 25 names (symlinks to sleep), a tenth
# of them replaced by multithreaded python3 processes, then runs ROUNDS rounds (default 30),
# each one process-exporter scrape, KOBSD_SCRAPES_PER_ROUND kobsd scrapes (default 5) and as
# many passes of the plain loop, interleaved so that the machine's noise hits all alike.
# A daemon's CPU is the utime + stime delta of /proc/PID/stat over its scrapes; the loop's is its
# own getrusage. Everything started is stopped on exit.
#
# process-exporter runs with -gather-smaps=false -threads=false by default, which matches what
# kobsd reads by default (no smaps, no per-thread breakdown); PE_FLAGS overrides that, e.g.
# PE_FLAGS= for process-exporter's own defaults. Until kobsd has the processes collector
# (its output lacks kobs_group_processes), the kobsd columns are not measured and no ratio is
# printed for it.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA=${1:-1000}
ROUNDS=${2:-30}
K_PER_ROUND=${3:-5}
PE_FLAGS=${PE_FLAGS--gather-smaps=false -threads=false}
KOBSD=${KOBSD:-./src/kobsd}
PE=$(command -v prometheus-process-exporter || command -v process-exporter || true)
[ -x "$KOBSD" ] || { echo "build kobsd first (make)" >&2; exit 1; }
[ -n "$PE" ] || { echo "apt-get install prometheus-process-exporter" >&2; exit 1; }
command -v cc >/dev/null || { echo "a C compiler (cc) is needed for bench/proc_loop.c" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	[ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# utime + stime of a whole process, in clock ticks (exited threads included).
cpu_ticks() { sed 's/.*) //' /proc/"$1"/stat | awk '{print $12 + $13}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }
# private_kib PID: the resident pages no other process maps (its own heap, stacks and written
# pages), in KiB; most of the rest of kobsd's RSS is shared libraries' pages.
private_kib() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s + 0}' /proc/"$1"/smaps_rollup; }
count_processes() { local pids=(/proc/[1-9]*); echo "${#pids[@]}"; }
ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
HZ=$(getconf CLK_TCK)

cc -O2 -o "$WORK/proc_loop" bench/proc_loop.c

# ---- the processes: sleepers under 25 names, some multithreaded python3 ----
mkdir -p "$WORK/bin"
names=(nginx postgres redis-server php-fpm gunicorn node java sshd cron rsyslogd dockerd containerd
	kubelet haproxy memcached mysqld httpd uwsgi celery sidekiq puma unicorn consul vault etcd)
for n in "${names[@]}"; do ln -s "$(command -v sleep)" "$WORK/bin/$n"; done
threaded=$((EXTRA / 10))
for i in $(seq 1 $((EXTRA - threaded))); do
	"$WORK/bin/${names[i % ${#names[@]}]}" 100000 &
	PIDS+=($!)
done
for i in $(seq 1 "$threaded"); do
	python3 -c 'import threading, time
for _ in range(4): threading.Thread(target=time.sleep, args=(100000,), daemon=True).start()
time.sleep(100000)' "worker-$i" &
	PIDS+=($!)
done

# ---- one config for both daemons ----
cat >"$WORK/config.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    cmdline:
      - '.+'
EOF

kport=$(free_port)
"$KOBSD" --config.file="$WORK/config.yml" --web.listen-address=127.0.0.1:"$kport" \
	--no-collector.system --no-collector.bpf --log.level=warn &
PIDS+=($!)
kpid=$!
# The task iterator's daemon: root and a bpf build only.
ipid=""
if [ "$(id -u)" = 0 ] && grep -q '^  bpf ' <("$KOBSD" --help); then
	cp "$WORK/config.yml" "$WORK/iter.yml"
	printf 'bpf:\n  programs: [task_iter]\n' >>"$WORK/iter.yml"
	iport=$(free_port)
	"$KOBSD" --config.file="$WORK/iter.yml" --web.listen-address=127.0.0.1:"$iport" \
		--no-collector.system --log.level=warn &
	PIDS+=($!)
	ipid=$!
	iurl="http://127.0.0.1:$iport/metrics"
fi
pport=$(free_port)
# shellcheck disable=SC2086 # PE_FLAGS is a list of flags
"$PE" -config.path "$WORK/config.yml" -web.listen-address 127.0.0.1:"$pport" -procfs /proc \
	$PE_FLAGS >"$WORK/pe.log" 2>&1 &
PIDS+=($!)
pe_pid=$!
kurl="http://127.0.0.1:$kport/metrics"
purl="http://127.0.0.1:$pport/metrics"
for url in "$kurl" "$purl" ${ipid:+"$iurl"}; do
	for i in $(seq 1 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
	curl -sf -o /dev/null "$url" || { echo "no answer from $url" >&2; exit 1; }
done
sleep 1 # let the last python3 threads start

# N scrapes over one keep-alive connection, like a Prometheus server does.
scrape_n() {
	local url=$1 n=$2 args=()
	for i in $(seq 1 "$n"); do args+=(-o /dev/null "$url"); done
	curl -sf -H "Accept: $ACCEPT" -H 'Accept-Encoding: gzip' "${args[@]}"
}

kobsd_has_processes=0
# (To a file first: grep -q stops reading early, and pipefail would count curl's SIGPIPE.)
if curl -sf "$kurl" -o "$WORK/kobsd-first" && grep -q '^kobs_group_processes' "$WORK/kobsd-first"; then
	kobsd_has_processes=1
fi
if [ -n "$ipid" ]; then
	curl -sf "$iurl" -o "$WORK/iter-first"
	grep -q '^kobs_processes_source{source="bpf_iter"} 1$' "$WORK/iter-first" || {
		echo "the task iterator's daemon does not read the iterator:" >&2
		grep kobs_processes_source "$WORK/iter-first" >&2
		exit 1
	}
fi
# Warm-up: the first scrape classifies every process and reads its command line.
scrape_n "$purl" 1
[ $kobsd_has_processes = 0 ] || scrape_n "$kurl" 1
[ -z "$ipid" ] || scrape_n "$iurl" 1

procs_before=$(count_processes)
k_ticks=0 p_ticks=0 i_ticks=0 loop_cpu=0
for _ in $(seq 1 "$ROUNDS"); do
	a=$(cpu_ticks "$pe_pid"); scrape_n "$purl" 1; b=$(cpu_ticks "$pe_pid")
	p_ticks=$((p_ticks + b - a))
	if [ $kobsd_has_processes = 1 ]; then
		a=$(cpu_ticks "$kpid"); scrape_n "$kurl" "$K_PER_ROUND"; b=$(cpu_ticks "$kpid")
		k_ticks=$((k_ticks + b - a))
	fi
	if [ -n "$ipid" ]; then
		a=$(cpu_ticks "$ipid"); scrape_n "$iurl" "$K_PER_ROUND"; b=$(cpu_ticks "$ipid")
		i_ticks=$((i_ticks + b - a))
	fi
	s=$("$WORK/proc_loop" -n "$K_PER_ROUND" | sed -n 's/.*cpu_seconds=\([0-9.]*\).*/\1/p')
	loop_cpu=$(awk -v a="$loop_cpu" -v b="$s" 'BEGIN {printf "%.6f", a + b}')
done
procs_after=$(count_processes)
loop_procs=$("$WORK/proc_loop" -n 1 | sed -n 's/.*processes=\([0-9]*\).*/\1/p')
p_rss=$(rss_kib "$pe_pid")
k_rss=$(rss_kib "$kpid")
i_rss=$([ -z "$ipid" ] || rss_kib "$ipid")
p_priv=$(private_kib "$pe_pid")
k_priv=$(private_kib "$kpid")
i_priv=$([ -z "$ipid" ] || private_kib "$ipid")
i_seen=$([ -z "$ipid" ] || curl -sf "$iurl" | awk '/^kobs_group_processes[{ ]/ {s += $NF} END {print s + 0}')
p_seen=$(curl -sf "$purl" | awk '/^namedprocess_namegroup_num_procs/ {s += $2} END {print s + 0}')
k_seen=$(curl -sf "$kurl" | awk '/^kobs_group_processes[{ ]/ {s += $NF} END {print s + 0}')

awk -v rounds="$ROUNDS" -v kpr="$K_PER_ROUND" -v hz="$HZ" -v pt="$p_ticks" -v kt="$k_ticks" \
	-v lc="$loop_cpu" -v pr="$p_rss" -v kr="$k_rss" -v has="$kobsd_has_processes" \
	-v before="$procs_before" -v after="$procs_after" -v lp="$loop_procs" -v ps="$p_seen" \
	-v ks="$k_seen" -v peflags="$PE_FLAGS" -v it="$i_ticks" -v ir="${i_rss:-0}" \
	-v is="${i_seen:-0}" -v hasiter="${ipid:+1}" -v pp="$p_priv" -v kp="$k_priv" \
	-v ip="${i_priv:-0}" 'BEGIN {
	p = pt / hz / rounds * 1000; k = kt / hz / (rounds * kpr) * 1000; l = lc / (rounds * kpr) * 1000
	i = it / hz / (rounds * kpr) * 1000
	printf "processes on the host: %d before, %d after (plain loop saw %d)\n", before, after, lp
	printf "process-exporter flags: %s\n", peflags == "" ? "(its defaults)" : peflags
	printf "%-18s %8s %14s %10s %12s %12s\n", "", "scrapes", "CPU/scrape", "RSS", "private", "processes"
	row = "%-18s %8d %11.2f ms %6.1f MiB %8.1f MiB %12d\n"
	printf row, "process-exporter", rounds, p, pr / 1024, pp / 1024, ps
	if (has)
		printf row, "kobsd (/proc)", rounds * kpr, k, kr / 1024, kp / 1024, ks
	if (hasiter)
		printf row, "kobsd (bpf_iter)", rounds * kpr, i, ir / 1024, ip / 1024, is
	else
		printf "%-18s %8s %14s %6.1f MiB %8.1f MiB %12s\n", "kobsd", "-", "n/a", kr / 1024, kp / 1024, "n/a"
	printf "%-18s %8d %11.2f ms %10s %12s %12d\n", "plain C loop", rounds * kpr, l, "-", "-", lp
	if (!has) {
		print "kobsd has no processes collector yet (no kobs_group_processes in its output):"
		print "its CPU is not measured and no kobsd ratio is printed."
		printf "ratio process-exporter/plain loop: %.1fx\n", p / l
		exit
	}
	printf "ratio process-exporter/kobsd CPU: %.1fx (target >= 10)\n", p / k
	printf "ratio kobsd/plain loop CPU:       %.2fx (target <= 2)\n", k / l
	printf "kobsd RSS: %.1f MiB (target < 8)\n", kr / 1024
	if (hasiter) {
		printf "ratio kobsd /proc path/task iterator path CPU: %.1fx (target >= 5)\n", k / (i > 0 ? i : 1e-9)
		printf "ratio process-exporter/kobsd (bpf_iter) CPU: %.0fx\n", p / (i > 0 ? i : 1e-9)
		printf "kobsd (bpf_iter) RSS: %.1f MiB (target < 8)\n", ir / 1024
	} else
		print "(not root, or built without the bpf collector: the task iterator path is not measured)"
}'
