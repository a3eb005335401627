#!/bin/bash
# Whatever the daemon serves parses: promtool lints the text format with no output, the
# reference OpenMetrics parser accepts the OpenMetrics format, and a model full of hostile label
# values and HELP strings (quotes, backslashes, newlines, invalid UTF-8) still parses.
. "$(dirname "$0")/lib.sh"
: "${EXPO_DUMP:?EXPO_DUMP must point at tests/unit/expo_dump}"

start_kobsd
fetch /metrics -o "$WORK/text"
check_text "$WORK/text"
pass "promtool check metrics is silent on the text format"

fetch /metrics -H "Accept: $ACCEPT_PROM_242" -o "$WORK/om"
check_openmetrics "$WORK/om"
pass "OpenMetrics parser accepts the OpenMetrics format"

# The same families in both formats. Which families there are follows the processes of the
# moment (a group's I/O families need a process whose I/O the daemon, as nobody, may read: another
# test's), so the OpenMetrics answer is taken between two text answers, until the three agree. A
# family one format lacks is lacking every time; one that comes and goes with other tests'
# processes agrees once they are still.
text_names() {
	fetch /metrics -o "$WORK/text" &&
		grep '^# TYPE' "$WORK/text" | awk '{print $3}' | sed 's/_total$//; s/_info$//' | sort
}
for attempt in $(seq 1 20); do
	names_before=$(text_names)
	fetch /metrics -H "Accept: $ACCEPT_PROM_242" -o "$WORK/om"
	names_om=$(grep '^# TYPE' "$WORK/om" | awk '{print $3}' | sort)
	names_text=$(text_names)
	[ "$names_before" = "$names_text" ] && [ "$names_text" = "$names_om" ] && break
	sleep 0.2
done
[ "$names_text" = "$names_om" ] || fail "text and OpenMetrics serve different families" \
	"(20 tries; text before/after: $(diff <(echo "$names_before") <(echo "$names_text") | grep '^[<>]' | tr '\n' ' ')):" \
	"$(diff <(echo "$names_text") <(echo "$names_om") | grep '^[<>]')"
pass "text and OpenMetrics serve the same families"
stop_kobsd || fail "exit status"

"$EXPO_DUMP" text >"$WORK/hostile.txt"
check_text "$WORK/hostile.txt"
"$PYTHON" - "$WORK/hostile.txt" <<'PY' || fail "python text parser rejected hostile text"
import sys
from prometheus_client.parser import text_string_to_metric_families
with open(sys.argv[1], encoding="utf-8") as f:
    list(text_string_to_metric_families(f.read()))
PY
pass "hostile label values and HELP in text format parse"

"$EXPO_DUMP" openmetrics >"$WORK/hostile.om"
check_openmetrics "$WORK/hostile.om"
pass "hostile label values and HELP in OpenMetrics parse"

# Invalid UTF-8 never reaches the output.
for f in "$WORK/hostile.txt" "$WORK/hostile.om"; do
	iconv -f UTF-8 -t UTF-8 "$f" >/dev/null || fail "$f is not valid UTF-8"
done
pass "output is valid UTF-8"
