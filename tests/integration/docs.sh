#!/bin/bash
# docs/metrics.md and the code agree: every family served is documented, and every documented
# family is named in the source.
. "$(dirname "$0")/lib.sh"
doc="$KOBS_SRCDIR/docs/metrics.md"

# The fixture procfs has every file, PSI included, so every system family is served.
start_kobsd --path.procfs="$KOBS_FIXTURES/proc"
fetch /metrics -o "$WORK/body"
stop_kobsd || fail "exit status"

documented=$(sed -n 's/^| `\([a-z_0-9]*\)` |.*/\1/p' "$doc" | sort -u)
[ -n "$documented" ] || fail "no metric rows found in $doc"
served=$(awk '/^# TYPE/ {print $3}' "$WORK/body" | sort -u)

missing=$(comm -23 <(echo "$served") <(echo "$documented"))
[ -z "$missing" ] || fail "served but not in docs/metrics.md: $missing"
pass "every served family is documented"

for name in $documented; do
	base=${name%_total}
	base=${base%_info}
	grep -rqF "\"$base\"" "$KOBS_SRCDIR/src" ||
		fail "documented family $name is not named in src/ (looked for \"$base\")"
done
pass "every documented family is named in the code"
