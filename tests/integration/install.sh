#!/bin/bash
# make install puts the man page in $(mandir)/man8, and the Grafana dashboards and provisioning
# examples and the Prometheus rules, alerts and example configuration under
# $(datadir)/kobsd/; every dashboard and rules file of the source tree is installed; and make
# uninstall takes away every file make install put in place.
. "$(dirname "$0")/lib.sh"
: "${KOBS_BUILDDIR:=$(cd "$(dirname "$KOBSD")/.." && pwd)}"
ROOT="$WORK/root"

run_make() { # run_make TARGET: make TARGET DESTDIR=$ROOT in the build directory
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		timeout 120 make -s -C "$KOBS_BUILDDIR" "$1" DESTDIR="$ROOT" >"$WORK/$1.log" 2>&1 ||
		fail "make $1 DESTDIR=$ROOT failed: $(tail -n 20 "$WORK/$1.log")"
}
run_make install

# one_file SUFFIX: the one installed file whose path ends so.
one_file() {
	local found
	found=$(find "$ROOT" -type f -path "*$1")
	[ -n "$found" ] || fail "make install put nothing at .../${1#/}"
	[ "$(wc -l <<<"$found")" -eq 1 ] || fail "make install put more than one .../${1#/}: $found"
	echo "$found"
}

man=$(one_file /share/man/man8/kobsd.8)
cmp -s "$man" "$KOBS_SRCDIR/docs/kobsd.8" || fail "the installed kobsd.8 differs from docs/kobsd.8"
pass "make install puts kobsd(8) in \$(mandir)/man8"

n=0
for f in "$KOBS_SRCDIR"/grafana/dashboards/*.json; do
	cmp -s "$(one_file "/share/kobsd/grafana/dashboards/${f##*/}")" "$f" ||
		fail "the installed ${f##*/} differs from the source tree's"
	n=$((n + 1))
done
[ $n -gt 0 ] || fail "no dashboards in $KOBS_SRCDIR/grafana/dashboards"
for f in dashboards/kobsd.yml datasources/prometheus.yml; do
	one_file "/share/kobsd/grafana/provisioning/$f" >/dev/null
done
pass "make install puts the $n dashboards and the provisioning examples in \$(datadir)/kobsd/grafana/"

n=0
for f in "$KOBS_SRCDIR"/contrib/prometheus/*.yml; do
	cmp -s "$(one_file "/share/kobsd/prometheus/${f##*/}")" "$f" ||
		fail "the installed ${f##*/} differs from the source tree's"
	n=$((n + 1))
done
[ $n -ge 3 ] || fail "expected the rules, the alerts and prometheus.yml in contrib/prometheus, found $n files"
pass "make install puts the rules, alerts and prometheus.yml in \$(datadir)/kobsd/prometheus/"

run_make uninstall
left=$(find "$ROOT" -type f)
[ -z "$left" ] || fail "make uninstall left files behind: $left"
pass "make uninstall removes every file make install put in place"
