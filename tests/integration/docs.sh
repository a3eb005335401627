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

# Every relative link and image of the Markdown documents points at a file of the tree.
broken=$("$PYTHON" - "$KOBS_SRCDIR" <<'PY'
import os, re, sys
top = sys.argv[1]
docs = ["README.md"] + [os.path.join(d, f) for d in ("docs", "contrib/prometheus", "tests/fuzz")
                        if os.path.isdir(os.path.join(top, d))
                        for f in sorted(os.listdir(os.path.join(top, d))) if f.endswith(".md")]
for doc in docs:
    path = os.path.join(top, doc)
    if not os.path.exists(path):
        continue
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = target.split("#")[0]
        if not os.path.exists(os.path.join(os.path.dirname(path), file)):
            print(f"{doc}: {target}")
PY
)
[ -z "$broken" ] || fail "links to files that do not exist: $broken"
pass "every relative link and image of the documents points at a file"

# CI runs the README's test command as the README writes it (the brief's contract: CI proves the
# README's quick start). .ci/ is not in the release tarball.
if [ -f "$KOBS_SRCDIR/.ci/run" ]; then
	readme_test=$(awk '/^```sh$/ { code = 1; next } /^```$/ { code = 0 } code && /run-all\.sh/' \
		"$KOBS_SRCDIR/README.md")
	ci_test=$(grep 'run-all\.sh' "$KOBS_SRCDIR/.ci/run" | grep -v '^#')
	[ -n "$readme_test" ] && [ "$readme_test" = "$ci_test" ] ||
		fail "the README's test command ('$readme_test') is not what .ci/run runs ('$ci_test')"
	pass "CI runs the README's test command: $ci_test"
fi
