#!/bin/bash
# The fuzzers: every parser harness in tests/fuzz/ builds with clang's libFuzzer and runs for a
# bounded time (FUZZ_SECONDS each, tests/fuzz/run.sh's default unless set) without a crash, leak,
# timeout, excess memory or broken property. Skipped when clang or libFuzzer's runtime is missing,
# and in the sanitizer build and the valgrind pass, which would only run the same AddressSanitizer
# builds again.
. "$(dirname "$0")/lib.sh"

[ "${KOBS_SANITIZERS:-no}" = yes ] &&
	skip "the fuzz harnesses are sanitizer builds already; they run in the development build"
[ "${KOBS_VALGRIND:-0}" != 1 ] ||
	skip "no daemon runs in this test; the harnesses ran in the development pass"

status=0
bash "$KOBS_SRCDIR/tests/fuzz/run.sh" >"$WORK/fuzz.log" 2>&1 || status=$?
case $status in
0)
	cat "$WORK/fuzz.log"
	pass "every fuzz harness ran without a finding"
	;;
77)
	skip "$(sed -n 's/^SKIP: //p' "$WORK/fuzz.log" | head -n 1)"
	;;
*)
	cat "$WORK/fuzz.log" >&2
	fail "tests/fuzz/run.sh exited $status (reports and reproducers above)"
	;;
esac
