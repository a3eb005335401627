#!/bin/bash
# An unprivileged daemon has no BPF, which is normal: unless BPF was asked for (--collector.bpf,
# as systemd/kobsd-bpf.conf passes it), the landing page shows the bpf collector as "off: not
# permitted" in a neutral colour and kobs_bpf_requested is 0; when it was asked for, it is failed,
# in red, and kobs_bpf_requested is 1. kobs_scrape_collector_success{collector="bpf"} is 0 both
# times. No BPF program is loaded: the daemon runs as nobody, without capabilities.
. "$(dirname "$0")/lib.sh"
"$KOBSD" --help | matches '^  bpf ' || skip "kobsd was built without the bpf collector"
[ "$(id -u)" = 0 ] || skip "needs root to run the daemon as nobody"
export KOBS_WITH_BPF=1
daemon_as_nobody

start_kobsd
fetch /metrics -o "$WORK/default"
fetch '/metrics?collect[]=bpf' -o "$WORK/only"
fetch / -o "$WORK/default.html"
stop_kobsd || fail "exit status"
row=$(grep -o '<td>bpf</td><td class="[a-z]*">[^<]*' "$WORK/default.html" || true)
case "$row" in
*'class="off">off: not permitted (CAP_BPF and CAP_PERFMON missing; '*) ;;
*) fail "the landing page's bpf row, not asked for: ${row:-none}" ;;
esac
grep -qF '.disabled,.off{color:#777}' "$WORK/default.html" || fail "the off state is not grey on the landing page"
pass "not asked for: the landing page shows bpf as off: not permitted, in grey"

grep -qx 'kobs_bpf_requested 0' "$WORK/default" || fail "kobs_bpf_requested is not 0: $(grep bpf_requested "$WORK/default")"
grep -qx 'kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/default" || fail "bpf's success is not 0"
grep -qx 'kobs_bpf_requested 0' "$WORK/only" && grep -qx 'kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/only" ||
	fail "collect[]=bpf does not serve bpf's success and kobs_bpf_requested"
! grep -q '^kobs_cpu_seconds_total\|^kobs_group_' "$WORK/only" || fail "collect[]=bpf serves other collectors' families"
pass "not asked for: kobs_bpf_requested 0 and success 0, collect[]=bpf included"

grep -q 'level=info msg="collector bpf is off: not permitted (CAP_BPF and CAP_PERFMON missing' "$WORK/kobsd.log" ||
	fail "no info line saying bpf is off"
! grep -q 'level=warn.*bpf' "$WORK/kobsd.log" || fail "a warning about bpf that was not asked for: $(grep 'level=warn.*bpf' "$WORK/kobsd.log")"
pass "not asked for: the log says so at info level, with no warning"

start_kobsd --collector.bpf
fetch /metrics -o "$WORK/asked"
fetch / -o "$WORK/asked.html"
stop_kobsd || fail "exit status"
row=$(grep -o '<td>bpf</td><td class="[a-z]*">[^<]*' "$WORK/asked.html" || true)
case "$row" in
*'class="failed">failed: not permitted: CAP_BPF and CAP_PERFMON missing; '*) ;;
*) fail "the landing page's bpf row, asked for: ${row:-none}" ;;
esac
grep -qx 'kobs_bpf_requested 1' "$WORK/asked" || fail "kobs_bpf_requested is not 1 with --collector.bpf"
grep -qx 'kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/asked" || fail "bpf's success is not 0"
grep -q 'level=warn msg="collector bpf failed to start: not permitted: CAP_BPF' "$WORK/kobsd.log" ||
	fail "no warning that the bpf collector asked for failed"
pass "asked for with --collector.bpf: failed in red, kobs_bpf_requested 1, a warning in the log"
