#!/bin/bash
# The Grafana dashboards (grafana/dashboards/, written by grafana/build.py): up to date with
# their generator, following grafana's linter rules (dashboards_check.py), every query valid
# PromQL once the template variables are substituted (promtool check rules), and every query
# answered with data by a real Prometheus that scraped a running kobsd under a small workload:
# a panel that would stay empty is a bug. The kernel panels need BPF (root, a build with the
# bpf collector); without it they are left out of the last check, and the test says so.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (contrib/install-deps.sh)"
cd "$KOBS_SRCDIR"

"$PYTHON" grafana/build.py --check || fail "the dashboards differ from grafana/build.py's"
pass "grafana/dashboards/ is what grafana/build.py writes"
"$PYTHON" tests/integration/dashboards_check.py grafana/dashboards >"$WORK/lint" ||
	fail "dashboard rules: $(grep FAIL "$WORK/lint")"
pass "the dashboards follow the linter's rules ($(grep -c '^ok' "$WORK/lint") checks)"

# Every query with the variables as Grafana substitutes them ($__rate_interval: at least four
# scrape intervals; the test scrapes every second).
"$PYTHON" grafana/build.py --queries |
	sed -e 's/\$__rate_interval/10s/g' -e 's/\$job/.+/g; s/\$instance/.+/g; s/\$group/.+/g' |
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
if [ "$(id -u)" = 0 ] && "$KOBSD" --version | grep -q '+bpf' && [ "${KOBS_VALGRIND:-0}" != 1 ]; then
	bpf=1
fi
mkdir -p "$WORK/bin"
ln -s "$(command -v dd)" "$WORK/bin/kd_io"
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
(for _ in $(seq 1 "$(scaled 120)"); do
	"$WORK/bin/kd_io" if=/dev/zero of="$io_dir/f" bs=64k count=64 oflag=direct 2>/dev/null
	"$WORK/bin/kd_nap" 0.2
done) &
EXTRA_PIDS+=($!)
# Killed by the cleanup itself (a timeout wrapper would die alone and leave it spinning).
"$WORK/bin/kd_burn" /dev/zero &
EXTRA_PIDS+=($!)
[ $bpf = 0 ] || export KOBS_WITH_BPF=1
# The BPF run-time panel has data only while kernel.bpf_stats_enabled is 1. The test leaves the
# setting alone (bpf.sh, which may run at the same time, checks the daemon against it).
stats=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
start_kobsd --config.file="$WORK/kobsd.yml"
start_prometheus

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
stop_kobsd || fail "exit status"
