#!/bin/bash
# The Prometheus rules of contrib/prometheus/: promtool accepts them and the example
# configuration, their unit tests pass, every alert has a test that fires it and one that shows
# it quiet, every alert's runbook_url leads to its section of contrib/prometheus/README.md,
# which says what to look at and what to do, and every metric they use is one docs/metrics.md
# lists (so they cannot drift from the daemon).
. "$(dirname "$0")/lib.sh"
[ "${KOBS_VALGRIND:-0}" != 1 ] || skip "no daemon runs in this test: nothing for valgrind to check"
command -v promtool >/dev/null || fail "promtool not installed (contrib/install-deps.sh)"
cd "$KOBS_SRCDIR/contrib/prometheus"
RULE_FILES=(kobsd-rules.yml kobsd-alerts.yml)
TEST_FILES=(tests/*.yml)
METRICS_DOC="$KOBS_SRCDIR/docs/metrics.md"

out=$(promtool check rules "${RULE_FILES[@]}" 2>&1) || fail "promtool check rules: $out"
pass "promtool check rules accepts ${RULE_FILES[*]}"

out=$(promtool test rules "${TEST_FILES[@]}" 2>&1) || fail "promtool test rules: $out"
pass "promtool test rules passes ${TEST_FILES[*]}"

out=$(promtool check config prometheus.yml 2>&1) || fail "promtool check config: $out"
pass "promtool check config accepts prometheus.yml and the rule files it loads"

# With PyYAML the checks below read the files as YAML. Without it (contrib/install-deps.sh does
# not install it) they read them as text, relying on the files' regular layout: one
# "- alert: NAME" or "- record: NAME" a line, and in the tests "alertname: NAME" followed by
# "exp_alerts: []" (quiet) or "exp_alerts:" and a list (fires). KOBS_RULES_AS_TEXT=1 reads them
# as text even with PyYAML, to test that reading.

# check_tests_yaml: every alert of kobsd-alerts.yml is tested firing and quiet, and every
# alertname the tests name is an alert.
check_tests_yaml() {
	"$PYTHON" - kobsd-alerts.yml "${TEST_FILES[@]}" <<'PY'
import sys
import yaml

alerts_file, test_files = sys.argv[1], sys.argv[2:]
with open(alerts_file, encoding="utf-8") as f:
    alerts = [r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r]
fires, quiet = set(), set()
for path in test_files:
    with open(path, encoding="utf-8") as f:
        for test in yaml.safe_load(f)["tests"]:
            for case in test.get("alert_rule_test") or []:
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
problems = [f"{a} has no test where it fires" for a in alerts if a not in fires]
problems += [f"{a} has no test where it stays quiet" for a in alerts if a not in quiet]
problems += [f"the tests name {a}, which is no alert" for a in sorted((fires | quiet) - set(alerts))]
print("\n".join(problems) if problems else f"{len(alerts)} alerts")
sys.exit(1 if problems else 0)
PY
}

check_tests_text() {
	local alerts
	alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\) *$/\1/p' kobsd-alerts.yml)
	awk -v alerts="$alerts" '
	BEGIN { n = split(alerts, list, "\n"); for (i = 1; i <= n; i++) known[list[i]] = 1 }
	/^ *alertname:/ { name = $2; next }
	/^ *exp_alerts: *\[\] *$/ { quiet[name] = 1; tested[name] = 1; next }
	/^ *exp_alerts: *$/ { fires[name] = 1; tested[name] = 1; next }
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			if (!(list[i] in fires)) { print list[i] " has no test where it fires"; bad = 1 }
			if (!(list[i] in quiet)) { print list[i] " has no test where it stays quiet"; bad = 1 }
		}
		for (a in tested)
			if (!(a in known)) { print "the tests name " a ", which is no alert"; bad = 1 }
		if (!bad) print n " alerts"
		exit bad
	}' "${TEST_FILES[@]}"
}

# documented_names: every series name the daemon serves, from the tables of docs/metrics.md: a
# histogram's _bucket, _sum and _count, the others as they are listed.
documented_names() {
	sed -n 's/^| `\([a-z_:][a-z0-9_:]*\)` | \([a-z]*\).*/\1 \2/p' "$METRICS_DOC" |
		while read -r name type; do
			if [ "$type" = histogram ]; then
				printf '%s\n' "${name}_bucket" "${name}_sum" "${name}_count"
			else
				printf '%s\n' "$name"
			fi
		done
}

# used_names_yaml: the metric names in the rules' expressions and the tests' input series: the
# names of kobsd's families (kobs_*, process_*) and of recording rules (with a colon). Quoted
# label values and [ranges] (a subquery's [1d:10m] has a colon) are left out first.
used_names_yaml() {
	"$PYTHON" - "${RULE_FILES[@]}" -- "${TEST_FILES[@]}" <<'PY'
import re
import sys
import yaml

args = sys.argv[1:]
rule_files, test_files = args[: args.index("--")], args[args.index("--") + 1 :]
texts = []
for path in rule_files:
    with open(path, encoding="utf-8") as f:
        texts += [r["expr"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
for path in test_files:
    with open(path, encoding="utf-8") as f:
        for test in yaml.safe_load(f)["tests"]:
            texts += [s["series"] for s in test.get("input_series") or []]
            texts += [e["expr"] for e in test.get("promql_expr_test") or []]
names = set()
for text in texts:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    names.update(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
print("\n".join(sorted(n for n in names if n.startswith(("kobs_", "process_")) or ":" in n)))
PY
}

# Without YAML: the expr lines and blocks of the rules, and the series and expr lines of the
# tests, as text.
used_names_text() {
	awk '
	/^ *(- )?(expr|series):/ { block = ($0 ~ /: *\|-? *$/); indent = match($0, /[^ ]/); print; next }
	block && (match($0, /[^ ]/) > indent || /^ *$/) { print; next }
	{ block = 0 }' "${RULE_FILES[@]}" "${TEST_FILES[@]}" |
		sed -e 's/^ *\(- \)\?\(expr\|series\): *//' -e 's/"\([^"\\]\|\\.\)*"/""/g' -e 's/\[[^]]*\]//g' |
		grep -oE '[A-Za-z_:][A-Za-z0-9_:]*' | grep -E '^(kobs_|process_)|:' | sort -u
}

recorded_names() {
	sed -n 's/^ *- record: *\([A-Za-z0-9_:]*\) *$/\1/p' kobsd-rules.yml
}

if "$PYTHON" -c 'import yaml' 2>/dev/null && [ "${KOBS_RULES_AS_TEXT:-0}" != 1 ]; then
	how=yaml
else
	how=text
fi
out=$("check_tests_$how" 2>&1) || fail "alerts and their tests (read as $how):"$'\n'"$out"
pass "each of the $out is tested firing and quiet (read as $how)"

# runbooks_yaml, runbooks_text: "ALERT URL" for every alert, URL "-" when it has no
# runbook_url.
runbooks_yaml() {
	"$PYTHON" - kobsd-alerts.yml <<'PY'
import sys
import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    for g in yaml.safe_load(f)["groups"]:
        for r in g["rules"]:
            if "alert" in r:
                print(r["alert"], (r.get("annotations") or {}).get("runbook_url") or "-")
PY
}

runbooks_text() {
	awk '
	/^ *- alert:/ { if (name != "") print name, (url == "" ? "-" : url); name = $3; url = "" }
	/^ *runbook_url:/ { url = $2; gsub(/"/, "", url) }
	END { if (name != "") print name, (url == "" ? "-" : url) }' kobsd-alerts.yml
}

# Each alert's runbook_url is the one base, README.md of this directory, and the anchor of the
# alert's heading (GitHub's: the heading lowercased); that section has a "**Look at:**" and a
# "**Do:**" paragraph.
pairs=$("runbooks_$how") || fail "could not list the alerts' runbook_url (read as $how)"
base=""
problems=()
while read -r name url; do
	if [ "$url" = - ]; then
		problems+=("$name has no runbook_url")
		continue
	fi
	anchor=$(tr '[:upper:]' '[:lower:]' <<<"$name")
	[ "${url#*#}" = "$anchor" ] && [ "$url" != "${url#*#}" ] ||
		problems+=("$name: runbook_url $url does not end in #$anchor")
	[ -n "$base" ] || base=${url%%#*}
	[ "${url%%#*}" = "$base" ] || problems+=("$name: runbook_url $url is not under $base")
	section=$(awk -v h="### $name" '$0 == h { on = 1; next } on && /^##/ { exit } on' README.md)
	if [ -z "$section" ]; then
		problems+=("README.md has no section \"### $name\" for $name's runbook_url")
	else
		grep -q '^\*\*Look at:\*\* ' <<<"$section" ||
			problems+=("README.md's section $name does not say what to look at (**Look at:**)")
		grep -q '^\*\*Do:\*\* ' <<<"$section" ||
			problems+=("README.md's section $name does not say what to do (**Do:**)")
	fi
done <<<"$pairs"
case "$base" in
*/contrib/prometheus/README.md) ;;
*) problems+=("the runbook_url base $base is not contrib/prometheus/README.md") ;;
esac
[ ${#problems[@]} -eq 0 ] || fail "runbooks (read as $how):$(printf '\n  %s' "${problems[@]}")"
pass "each of the $(wc -l <<<"$pairs") alerts links its runbook, a section of README.md saying" \
	"what to look at and what to do (read as $how)"

used=$("used_names_$how") || fail "could not list the metric names the rules use"
[ -n "$used" ] || fail "found no metric name in the rules (read as $how)"
unknown=$(comm -23 <(printf '%s\n' "$used") <({ documented_names; recorded_names; } | sort -u))
[ -z "$unknown" ] || fail "names in the rules or their tests that docs/metrics.md does not list" \
	"and no rule records:"$'\n'"$unknown"
pass "the $(wc -l <<<"$used") metric names the rules use are documented or recorded (read as $how)"
