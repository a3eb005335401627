#!/bin/bash
# kobsd --version names the source revision it was built from, in a build from a release tarball
# as in a git checkout: the tarball's .tarball-revision (make dist writes it), or else a commit of
# the checkout. make distcheck runs this test on the tarball it made.
. "$(dirname "$0")/lib.sh"

kobsd --version >"$WORK/version" 2>&1 || fail "kobsd --version exited non-zero: $(cat "$WORK/version")"
line=$(head -n 1 "$WORK/version")
revision=$(sed -n 's/^kobsd [^ ]* (revision \([^)]*\))$/\1/p' <<<"$line")
[ -n "$revision" ] || fail "--version's first line is not 'kobsd VERSION (revision REV)': $line"
[ "$revision" != unknown ] || fail "--version says revision unknown: $line"

if [ -f "$KOBS_SRCDIR/.tarball-revision" ]; then
	recorded=$(head -n 1 "$KOBS_SRCDIR/.tarball-revision")
	[ "$revision" = "$recorded" ] ||
		fail "built from a release tarball that records revision $recorded, --version says $revision"
	pass "a build from the release tarball reports the tarball's revision $revision"
elif [ "$(git -C "$KOBS_SRCDIR" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$KOBS_SRCDIR" && pwd -P)" ]; then
	# Any commit of the checkout: HEAD may have moved since configure ran.
	git -C "$KOBS_SRCDIR" cat-file -e "$revision^{commit}" 2>/dev/null ||
		fail "--version says revision $revision, which is no commit of the checkout $KOBS_SRCDIR"
	pass "a build from a git checkout reports one of its commits: $revision"
else
	fail "$KOBS_SRCDIR is neither a release tarball (.tarball-revision) nor a git checkout, yet" \
		"--version says $revision"
fi

