#!/bin/sh
# Run a program under valgrind memcheck when KOBS_VALGRIND=1 (the third pass of tests/run-all.sh),
# and as it is otherwise: the unit tests through automake's LOG_COMPILER, the daemon through
# tests/integration/lib.sh. Any error, or a definite or indirect leak, makes the program exit 99;
# --track-fds lists what is open at exit, which lib.sh checks for the daemon. The report goes to
# KOBS_VALGRIND_LOG (valgrind's --log-file, %p for the pid) when set, else to stderr.
if [ "${KOBS_VALGRIND:-0}" != 1 ]; then
	exec "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes \
	--num-callers=30 --vgdb=no --suppressions="$here/valgrind.supp" \
	${KOBS_VALGRIND_LOG:+--log-file="$KOBS_VALGRIND_LOG"} "$@"
