#!/bin/bash
# The flags users know from node_exporter: -h, --collector.disable-defaults,
# --web.disable-exporter-metrics and --log.format.
. "$(dirname "$0")/lib.sh"

kobsd -h >"$WORK/out" 2>&1 || fail "kobsd -h failed: $(cat "$WORK/out")"
grep -q '^Usage: kobsd' "$WORK/out" && grep -q -- '--help, -h' "$WORK/out" ||
	fail "-h does not print the usage: $(head -n 3 "$WORK/out")"
pass "-h prints the usage"

start_kobsd --collector.disable-defaults
fetch /metrics -o "$WORK/none"
fetch / -o "$WORK/none.html"
stop_kobsd || fail "exit status"
! grep -q '^kobs_cpu_seconds_total\|^kobs_group_\|^kobs_scrape_collector_duration_seconds{' "$WORK/none" ||
	fail "--collector.disable-defaults still serves a collector: $(grep -m 3 '^kobs_cpu\|^kobs_group\|duration' "$WORK/none")"
grep -q '^kobs_build_info{' "$WORK/none" || fail "--collector.disable-defaults leaves out kobs_build_info"
grep -q '<td>system</td><td class="disabled">disabled: disabled by --collector.disable-defaults' "$WORK/none.html" ||
	fail "the landing page does not say why system is off: $(grep -o '<td>system</td><td[^/]*' "$WORK/none.html")"
check_text "$WORK/none"
pass "--collector.disable-defaults turns every collector off, and the landing page says so"

start_kobsd --collector.disable-defaults --collector.system
fetch /metrics -o "$WORK/system"
stop_kobsd || fail "exit status"
grep -q '^kobs_cpu_seconds_total{' "$WORK/system" || fail "--collector.system after --collector.disable-defaults is not on"
! grep -q '^kobs_group_' "$WORK/system" || fail "the processes collector is on"
pass "--collector.NAME turns a collector back on after --collector.disable-defaults"

start_kobsd --web.disable-exporter-metrics
fetch /metrics -o "$WORK/quiet"
stop_kobsd || fail "exit status"
left=$(grep -E '^(process_|kobs_scrape_requests_total|kobs_scrape_collections_total)' "$WORK/quiet" || true)
[ -z "$left" ] || fail "--web.disable-exporter-metrics still serves: $left"
for kept in kobs_build_info kobs_scrape_collector_success kobs_bpf_requested kobs_cpu_seconds_total; do
	grep -q "^$kept[{ ]" "$WORK/quiet" || fail "--web.disable-exporter-metrics left out $kept"
done
check_text "$WORK/quiet"
pass "--web.disable-exporter-metrics leaves out process_* and the request counters, keeps what alerts need"

# Every line on stderr is a JSON object, also when what it says holds bytes that are not UTF-8
# (here a --path.procfs the system collector cannot read).
odd=$(printf '%s/no\377such\342dir' "$WORK")
start_kobsd --log.format=json --log.level=debug --path.procfs="$odd"
fetch /metrics -o /dev/null
stop_kobsd || fail "exit status"
"$PYTHON" - "$WORK/kobsd.log" <<'PY' || fail "--log.format=json wrote a line that is not a JSON object (log above)"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "no newline at the end"
seen_warn = False
for raw in lines[:-1]:
    obj = json.loads(raw.decode("utf-8"))  # strict: invalid UTF-8 or a bad escape fails
    assert isinstance(obj, dict), raw
    assert {"ts", "level", "msg"} <= obj.keys(), raw
    if obj["level"] == "warn" and "no\ufffdsuch\ufffddir" in obj.get("reason", ""):
        seen_warn = True
assert seen_warn, "no warn line with the unreadable path"
PY
pass "--log.format=json writes one JSON object a line, invalid UTF-8 replaced"

status=0
kobsd --log.format=yaml >"$WORK/out" 2>&1 || status=$?
[ $status -eq 64 ] || fail "--log.format=yaml exited $status, want 64"
grep -q 'logfmt or json' "$WORK/out" || fail "bad --log.format message: $(cat "$WORK/out")"
pass "--log.format=yaml is a usage error"
