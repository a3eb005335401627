#!/bin/bash
# The Grafana dashboards (grafana/dashboards/, written by grafana/build.py): up to date with
# their generator, following grafana's linter rules (dashboards_check.py), every query valid
# PromQL once the template variables are substituted (promtool check rules), and every query
# answered with data by a real Prometheus that scraped a running kobsd under a small workload:
# a panel that would stay empty is a bug. Then every dashboard is drawn from that Prometheus in
# headless Chromium (dashboards_render.py: the variables resolved as Grafana does, each panel
# in SVG) and each panel of the screenshot must show its data. The kernel panels need BPF
# (root, a build with the bpf collector); without it they are left out of both checks, and the
# test says so.
#
# KOBS_SCREENSHOTS=DIR writes the screenshots there too (docs/screenshots/ holds the committed
# ones), after KOBS_DASH_SECONDS more seconds of data (default 0) for fuller graphs.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (contrib/install-deps.sh)"
command -v chromium >/dev/null || fail "chromium not installed (contrib/install-deps.sh)"
"$PYTHON" -c 'import PIL' 2>/dev/null || fail "python3-pil not installed (contrib/install-deps.sh)"
cd "$KOBS_SRCDIR"

"$PYTHON" grafana/build.py --check || fail "the dashboards differ from grafana/build.py's"
pass "grafana/dashboards/ is what grafana/build.py writes"
"$PYTHON" tests/integration/dashboards_check.py grafana/dashboards >"$WORK/lint" ||
	fail "dashboard rules: $(grep FAIL "$WORK/lint")"
pass "the dashboards follow the linter's rules ($(grep -c '^ok' "$WORK/lint") checks)"

# Every query with the variables as Grafana substitutes them ($__rate_interval: at least four
# scrape intervals; the test scrapes every second; $group: every group here, the rendering below
# resolves it as Grafana does).
"$PYTHON" grafana/build.py --queries |
	sed -e 's/\$__rate_interval/10s/g; s/\$__range/1h/g; s/\$top/10/g' \
		-e 's/\$job/.+/g; s/\$instance/.+/g; s/\$group/.+/g' |
	sort -u >"$WORK/queries"
n=$(wc -l <"$WORK/queries")
{
	echo "groups:"
	echo "  - name: dashboard_queries"
	echo "    rules:"
	i=0
	while IFS= read -r q; do
		i=$((i + 1))
		printf '      - record: dashboard:query:%d\n        expr: %s\n' "$i" \
			"$("$PYTHON" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$q")"
	done <"$WORK/queries"
} >"$WORK/queries.rules.yml"
promtool check rules "$WORK/queries.rules.yml" >"$WORK/promtool.out" 2>&1 ||
	fail "a dashboard query does not parse: $(cat "$WORK/promtool.out")"
pass "all $n queries parse (promtool check rules)"

# The live half: kobsd with BPF when it can, a workload in known groups, Prometheus scraping.
bpf=0
if [ "$(id -u)" = 0 ] && "$KOBSD" --version | matches '+bpf' && [ "${KOBS_VALGRIND:-0}" != 1 ]; then
	bpf=1
fi
mkdir -p "$WORK/bin"
ln -s "$PYTHON" "$WORK/bin/kd_io"
ln -s "$(command -v sleep)" "$WORK/bin/kd_nap"
ln -s "$(command -v sha256sum)" "$WORK/bin/kd_burn"
cat >"$WORK/kobsd.yml" <<'YML'
process_names:
  - name: "{{.Comm}}"
    comm: [kd_io, kd_nap, kd_burn]
bpf:
  syscalls: [read, write]
YML
io_dir=$(mktemp -d /var/tmp/kobs-dash.XXXXXX)
trap 'rm -rf "$io_dir"; cleanup' EXIT
# The workload runs without any capability, even as root: once kobsd has attached its BPF
# programs it drops every capability, and the kernel then lets it read /proc/PID/io only of
# processes whose capabilities are a subset of its own (none).
capless=()
[ "$(id -u)" != 0 ] || capless=(setpriv --bounding-set=-all --inh-caps=-all)
# kd_io: one long-lived process (kobsd sees a process only while it lives, so a dd a scrape
# misses would count nothing) that writes 256 KiB, syncs it, drops it from the page cache and
# reads it back from the disk, 10 times a second: every I/O series moves.
${capless[@]+"${capless[@]}"} "$WORK/bin/kd_io" -c '
import os, sys, time
path, end = sys.argv[1], time.time() + float(sys.argv[2])
block = b"k" * 262144
while time.time() < end:
    with open(path, "wb") as f:
        f.write(block)
        f.flush()
        os.fsync(f.fileno())
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.read(fd, len(block))
    os.close(fd)
    time.sleep(0.1)' "$io_dir/f" "$(scaled 300)" &
EXTRA_PIDS+=($!)
${capless[@]+"${capless[@]}"} /bin/sh -c 'i=0; while [ $i -lt "$1" ]; do "$0" 0.2; i=$((i + 1)); done' \
	"$WORK/bin/kd_nap" "$(scaled 1500)" &
EXTRA_PIDS+=($!)
# Killed by the cleanup itself (a timeout wrapper would die alone and leave it spinning).
${capless[@]+"${capless[@]}"} "$WORK/bin/kd_burn" /dev/zero &
EXTRA_PIDS+=($!)
[ $bpf = 0 ] || export KOBS_WITH_BPF=1
# The BPF run-time panel has data only while kernel.bpf_stats_enabled is 1. The test leaves the
# setting alone (bpf.sh, which may run at the same time, checks the daemon against it).
stats=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
start_kobsd --config.file="$WORK/kobsd.yml"
start_prometheus
since=$(date +%s)

kernel='kobs_(runqueue|offcpu|syscall_latency|block_io|oom_kills|tcp_retransmits|packet_drops|bpf_)'
empty=()
for _ in $(seq 1 "$(scaled 40)"); do
	sleep 1
	empty=()
	while IFS= read -r q; do
		[ $bpf = 1 ] || ! grep -Eq "$kernel" <<<"$q" || continue
		[ "$stats" = 1 ] || ! grep -q kobs_bpf_program_run <<<"$q" || continue
		prom_query "$q" | "$PYTHON" -c 'import json,sys
r = json.load(sys.stdin)
sys.exit(0 if r.get("status") == "success" and r["data"]["result"] else 1)' 2>/dev/null ||
			empty+=("$q")
	done <"$WORK/queries"
	[ ${#empty[@]} -eq 0 ] && break
done
[ ${#empty[@]} -eq 0 ] || fail "${#empty[@]} panel queries return no data:$(printf '\n  %s' "${empty[@]}")"
if [ $bpf = 1 ] && [ "$stats" = 1 ]; then
	pass "every one of the $n panel queries returns data from a real Prometheus"
elif [ $bpf = 1 ]; then
	pass "every panel query but the BPF run time (kernel.bpf_stats_enabled is 0) returns data"
else
	pass "every panel query but the kernel ones returns data (no BPF here: not root, a build" \
		"without it, or valgrind)"
fi

# Drawn in a browser. The panels that may stay empty here, and why.
allow=()
[ $bpf = 1 ] || allow+=(--allow-empty "$kernel=no BPF in this run")
[ "$stats" = 1 ] || allow+=(--allow-empty "kobs_bpf_program_run=kernel.bpf_stats_enabled is 0")
copy=()
if [ -n "${KOBS_SCREENSHOTS:-}" ]; then
	copy=(--copy-to "$KOBS_SCREENSHOTS")
	sleep "${KOBS_DASH_SECONDS:-0}"
fi
# The range starts a few seconds after Prometheus, once the first rates exist, and is drawn
# once it spans 20 seconds: lines long enough to judge.
while [ $(($(date +%s) - since)) -lt 23 ]; do sleep 1; done
"$PYTHON" tests/integration/dashboards_render.py --prometheus "$PROM" --start $((since + 3)) \
	--out "$WORK/render" --timeout "$(scaled 120)" ${allow[@]+"${allow[@]}"} \
	${copy[@]+"${copy[@]}"} grafana/dashboards/*.json >"$WORK/render.out" 2>&1 ||
	fail "the dashboards as drawn in Chromium:"$'\n'"$(grep -v '^ok' "$WORK/render.out")"
sed 's/^/# /' "$WORK/render.out"
pass "every dashboard drawn in headless Chromium, each panel with its data on the screenshot" \
	"($(grep -c '^ok.* drawn (' "$WORK/render.out") panels$(grep -q 'as expected' \
	"$WORK/render.out" && echo "; $(grep -c 'as expected' "$WORK/render.out") empty as expected"))"
stop_kobsd || fail "exit status"
