#!/bin/bash
# The live page (/live) in headless Chromium: once the page's event stream is live, a process
# makes a slow event (three getpriority() calls, timed with a threshold of 0 ns; a second after its
# start, once the daemon has put the new process in its group), which must
# appear as a row naming its pid and group; the groups table is drawn from /metrics. The page is
# captured; KOBS_SCREENSHOTS=DIR keeps the capture there (docs/screenshots/kobsd-live.png).
. "$(dirname "$0")/lib.sh"
require_bpf
CHROMIUM=$(command -v chromium) || fail "chromium not installed (contrib/install-deps.sh)"

mkdir "$WORK/bin"
ln -s /usr/bin/python3 "$WORK/bin/kt_live"
# Every process in a group of its own name (the built-in groups), and the events of one syscall
# hardly anything else makes.
cat >"$WORK/kobsd.yml" <<'YML'
bpf:
  syscalls: [getpriority]
events:
  syscalls: {getpriority: 0ns}
  rate_limit: 50
YML
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/first"
if [ "${KOBS_VALGRIND:-0}" = 1 ] &&
	grep -q '^kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/first"; then
	skip "under valgrind the bpf collector does not start"
fi

"$PYTHON" "$KOBS_SRCDIR/tests/integration/live_page.py" --chromium "$CHROMIUM" \
	--url "$KOBS_URL/live" --group kt_live --timeout "$(scaled 30)" --screenshot "$WORK/live.png" -- \
	"$WORK/bin/kt_live" -c 'import os, time; time.sleep(1); [os.getpriority(os.PRIO_PROCESS, 0) for _ in range(3)]' \
	>"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "the live page (above)"; }
cat "$WORK/check.out"
if [ -n "${KOBS_SCREENSHOTS:-}" ]; then
	"$PYTHON" -c 'import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").quantize(64).save(sys.argv[2], optimize=True)' \
		"$WORK/live.png" "$KOBS_SCREENSHOTS/kobsd-live.png"
fi
pass "the live page shows a slow event provoked while it is open, and the groups' figures"
stop_kobsd || fail "exit status"
