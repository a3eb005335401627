#!/bin/bash
# The man page, docs/kobsd.8: groff and man-db format it without a warning, and it covers the
# daemon as built: every flag and collector `kobsd --help` lists, every exit code it names, every
# signal the daemon handles, the files the systemd unit uses, and only metric names that
# docs/metrics.md documents. Its header names the version `kobsd --version` prints.
. "$(dirname "$0")/lib.sh"
page="$KOBS_SRCDIR/docs/kobsd.8"
[ -f "$page" ] || fail "no man page at docs/kobsd.8"
command -v groff >/dev/null || fail "groff not installed (package groff-base; contrib/install-deps.sh)"
command -v man >/dev/null || fail "man not installed (package man-db; contrib/install-deps.sh)"

groff -man -ww -z "$page" >"$WORK/groff.out" 2>&1 || fail "groff failed on docs/kobsd.8: $(cat "$WORK/groff.out")"
[ ! -s "$WORK/groff.out" ] || fail "groff -ww warns about docs/kobsd.8: $(cat "$WORK/groff.out")"
LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >/dev/null 2>"$WORK/man.err" ||
	fail "man -l failed on docs/kobsd.8: $(cat "$WORK/man.err")"
[ ! -s "$WORK/man.err" ] || fail "man --warnings warns about docs/kobsd.8: $(cat "$WORK/man.err")"
pass "groff -ww and man --warnings format docs/kobsd.8 without a warning"

# The page as a reader sees it (man leaves out the bold when it writes to a pipe), with lines too
# long to wrap: section headings start in column 0, and each .TP tag (a flag, a collector, an
# exit code) starts a line indented by 7 columns. A tag shorter than that indent shares its line
# with the text, which starts 7 columns further.
LC_ALL=C.UTF-8 MANWIDTH=1000 man -E ascii -l "$page" 2>/dev/null >"$WORK/page.txt"
# tags SECTION: the tags of that section, one a line ("A, B" gives two).
tags() {
	awk -v want="$1" '/^[A-Z]/ { section = $0; next }
		section == want && /^       [^ ]/ {
			t = substr($0, 8)
			if (length(t) > 7 && substr(t, 7, 1) == " ")
				t = substr(t, 1, 6)
			sub(/ +$/, "", t)
			n = split(t, parts, /, /)
			for (i = 1; i <= n; i++)
				print parts[i]
		}' "$WORK/page.txt"
}
# in_section SECTION: the section's text.
in_section() {
	awk -v want="$1" '/^[A-Z]/ { section = $0; next } section == want' "$WORK/page.txt"
}

kobsd --help >"$WORK/help" 2>&1 || fail "kobsd --help failed: $(cat "$WORK/help")"
tags OPTIONS | sed 's/=.*//' | grep '^--' | sort -u >"$WORK/documented"
sed -n 's/^  \(--[a-z.-]*\).*/\1/p' "$WORK/help" | sort -u >"$WORK/flags"
[ -s "$WORK/flags" ] || fail "no flags found in kobsd --help"
missing=$(comm -23 "$WORK/flags" "$WORK/documented")
[ -z "$missing" ] || fail "flags of kobsd --help not described in OPTIONS of kobsd(8):" $missing
grep -qx -- '--collector.NAME' "$WORK/documented" && grep -qx -- '--no-collector.NAME' "$WORK/documented" ||
	fail "kobsd(8) does not describe --collector.NAME and --no-collector.NAME"
pass "every flag of kobsd --help is described in OPTIONS ($(wc -l <"$WORK/flags") flags)"

collectors=$(sed -n '/^Collectors/,/^$/s/^  \([a-z_]*\) .*/\1/p' "$WORK/help")
[ -n "$collectors" ] || fail "no collectors found in kobsd --help"
for c in $collectors; do
	tags COLLECTORS | matches -x "$c" || fail "collector $c is not described in COLLECTORS of kobsd(8)"
done
pass "every collector is described: $(echo $collectors)"

codes=$(sed -n 's/^Exit codes: //p' "$WORK/help" | grep -o '[0-9][0-9]*')
[ -n "$codes" ] || fail "no exit codes found in kobsd --help"
for code in $codes 1; do
	tags 'EXIT STATUS' | matches -x "$code" || fail "exit code $code is not described in EXIT STATUS"
done
signals=$(sed -n 's/.*sigaddset([^,]*, *\(SIG[A-Z]*\)).*/\1/p' "$KOBS_SRCDIR/src/main.c")
[ -n "$signals" ] || fail "no handled signals found in src/main.c"
for sig in $signals; do
	tags SIGNALS | matches -x "$sig" ||
		fail "signal $sig, which the daemon handles, is not described in SIGNALS"
done
pass "exit codes $(echo $codes 1) and signals $(echo $signals) are described"

# The files the unit uses, with the Debian package's paths.
for f in $(sed -n 's/^\(ExecStart\|EnvironmentFile\)=-\{0,1\}//p' "$KOBS_SRCDIR/systemd/kobsd.service.in" |
	grep -o '@sysconfdir@/[^ ]*' | sed 's|@sysconfdir@|/etc|'); do
	tags FILES | matches -xF "$f" || fail "$f, which kobsd.service uses, is not in FILES of kobsd(8)"
done
pass "the files kobsd.service uses are in FILES"

# Metric names: each one the page names (a trailing * stands for a prefix) is documented.
documented_metrics=$(sed -n 's/^| `\([a-z_0-9]*\)` |.*/\1/p' "$KOBS_SRCDIR/docs/metrics.md" | sort -u)
named=$(in_section METRICS | grep -oE '\b(kobs|process)_[a-z0-9_]*\*?' | sort -u)
[ -n "$named" ] || fail "kobsd(8) names no metric in METRICS"
for m in $named; do
	case "$m" in
	*\*) grep -q "^${m%\*}" <<<"$documented_metrics" || fail "kobsd(8) names $m, but no documented family starts so" ;;
	*) grep -qx "$m" <<<"$documented_metrics" || fail "kobsd(8) names $m, which docs/metrics.md does not document" ;;
	esac
done
pass "the $(wc -w <<<"$named") metric names in METRICS are documented in docs/metrics.md"

version=$(kobsd --version | sed -n '1s/^kobsd \([^ ]*\) .*/\1/p')
th_version=$(sed -n 's/^\.TH KOBSD 8 "[^"]*" "kobsd \([^"]*\)".*/\1/p' "$page")
[ "$th_version" = "$version" ] || fail "kobsd(8) says version '$th_version', kobsd --version says $version"
pass "the page's header names version $version"
