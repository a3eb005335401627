#!/bin/bash
# The C sources are formatted with the root .clang-format.
. "$(dirname "$0")/lib.sh"
[ "${KOBS_VALGRIND:-0}" != 1 ] || skip "no daemon runs in this test: nothing for valgrind to check"
command -v clang-format >/dev/null || fail "clang-format not installed (contrib/install-deps.sh)"
cd "$KOBS_SRCDIR"
bad=()
for f in src/*.[ch] tests/unit/*.c tests/fuzz/*.[ch]; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
[ ${#bad[@]} -eq 0 ] || fail "not formatted (run clang-format -i): ${bad[*]}"
pass "every C file is formatted with .clang-format"
