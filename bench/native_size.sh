#!/bin/bash
# Series and bytes per scrape of the default setup (contrib/kobsd.yml, every process grouped by
# comm, the bpf collector on) in each format: text and OpenMetrics, where each histogram is its
# classic series (one per bucket, +Inf included, and _sum and _count; OpenMetrics adds a _created
# line per counter), and protobuf as a Prometheus with native histograms stores it (one series per
# histogram; the classic buckets ride along in the same message). Run as root, so that the bpf
# collector loads.
#
#   sudo bench/native_size.sh [SETTLE_SECONDS] [ROUNDS]
#
# The daemon runs SETTLE_SECONDS (default 20) first, so that the histograms fill; then each
# round fetches every format, plain and gzipped, back to back; the medians are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
SETTLE=${1:-20}
ROUNDS=${2:-5}
KOBSD=${KOBSD:-./src/kobsd}
PYTHON=/usr/bin/python3
[ -x "$KOBSD" ] || { echo "build kobsd first (make)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root: the bpf collector needs it" >&2; exit 1; }

WORK=$(mktemp -d)
PID=""
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$KOBSD" --config.file=contrib/kobsd.yml --web.listen-address="127.0.0.1:$port" --log.level=warn &
PID=$!
URL="http://127.0.0.1:$port/metrics"
for _ in $(seq 1 100); do curl -sf -o /dev/null "$URL" && break; sleep 0.1; done
sleep "$SETTLE"

TEXT='text/plain;version=0.0.4'
OM='application/openmetrics-text;version=1.0.0'
PROTO='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited'
size() { curl -sf -H "Accept: $1" ${2:+-H "Accept-Encoding: gzip"} -o "$WORK/body" "$URL" && stat -c %s "$WORK/body"; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for r in $(seq 1 "$ROUNDS"); do
	for f in TEXT OM PROTO; do
		echo "$(size "${!f}")" >>"$WORK/$f.plain"
		echo "$(size "${!f}" gzip)" >>"$WORK/$f.gzip"
	done
	curl -sf -H "Accept: $TEXT" -o "$WORK/text" "$URL"
	curl -sf -H "Accept: $OM" -o "$WORK/om" "$URL"
	grep -vc '^#' "$WORK/om" >>"$WORK/om.series" || true
	curl -sf -H "Accept: $PROTO" -o "$WORK/pb" "$URL"
	"$PYTHON" tests/integration/metricfamily.py sizes "$WORK/pb" "$WORK/text" >>"$WORK/series"
done

groups=$(grep '^kobs_group_processes{' "$WORK/text" | grep -o 'group="[^"]*"' | sort -u | wc -l)
echo "default setup: $groups groups, $(awk '{print $7}' "$WORK/series" | median) histograms;" \
	"medians of $ROUNDS rounds"
printf '%-28s %8s %10s %10s\n' format series bytes gzipped
printf '%-28s %8s %10s %10s\n' "text 0.0.4 (classic)" \
	"$(awk '{print $3}' "$WORK/series" | tr -d , | median)" \
	"$(median <"$WORK/TEXT.plain")" "$(median <"$WORK/TEXT.gzip")"
printf '%-28s %8s %10s %10s\n' "OpenMetrics 1.0.0 (classic)" \
	"$(median <"$WORK/om.series")" \
	"$(median <"$WORK/OM.plain")" "$(median <"$WORK/OM.gzip")"
printf '%-28s %8s %10s %10s\n' "protobuf (native)" \
	"$(awk '{print $5}' "$WORK/series" | tr -d , | median)" \
	"$(median <"$WORK/PROTO.plain")" "$(median <"$WORK/PROTO.gzip")"
