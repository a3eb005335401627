#!/bin/bash
# Native histograms in a real Prometheus: the bpf collector measures four CPU burners waiting in
# the run queue; one Prometheus 2.42 started with --enable-feature=native-histograms scrapes
# kobsd (it asks for protobuf, and stores each histogram as one native series), another without
# the feature scrapes it too (text: classic _bucket series). histogram_quantile over the native
# series must agree with histogram_quantile over the classic buckets within one bucket (a factor
# of 2); src/expo_proto.h says why the native answer is the classic one times 1e9/2^30 = 0.93.
# (Prometheus before 2.45 ignores the classic buckets of a histogram that is also native, so one
# server cannot hold both.)
. "$(dirname "$0")/lib.sh"

require_bpf

# The load: four burners at nice 19 that run a few milliseconds and sleep one, so that each
# wakes up behind the others (as in bpf.sh). They end by themselves; cleanup kills them sooner.
seconds=$(scaled 90)
mkdir "$WORK/bin"
ln -s "$(command -v bash)" "$WORK/bin/kn_burn"
mkfifo "$WORK/never"
burn='exec 3<>"$1"; end=$((SECONDS + $2))
while [ $SECONDS -lt $end ]; do
	for ((i = 0; i < 20000; i++)); do :; done
	read -r -t 0.001 -u 3 || :
done'
for _ in 1 2 3 4; do
	nice -n 19 "$WORK/bin/kn_burn" -c "$burn" kn_burn "$WORK/never" "$seconds" &
	EXTRA_PIDS+=($!)
done

cat >"$WORK/kobsd.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    comm: [kn_burn]
EOF
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/first"
if [ "${KOBS_VALGRIND:-0}" = 1 ] &&
	grep -q '^kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/first"; then
	skip "under valgrind the bpf collector does not start"
fi

# start_server NAME [FLAGS...]: a Prometheus server scraping kobsd every second, its URL in
# $PROM_<NAME>.
start_server() {
	local name=$1 port
	shift
	port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir "$WORK/$name"
	cat >"$WORK/$name/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kobsd
    static_configs:
      - targets: ['${KOBS_URL#http://}']
YML
	prometheus --config.file="$WORK/$name/prometheus.yml" \
		--storage.tsdb.path="$WORK/$name/tsdb" --web.listen-address="127.0.0.1:$port" \
		--log.level=warn "$@" >"$WORK/$name/log" 2>&1 &
	EXTRA_PIDS+=($!)
	printf -v "PROM_$name" 'http://127.0.0.1:%s' "$port"
}
command -v prometheus >/dev/null || fail "prometheus not installed (contrib/install-deps.sh)"
start_server native --enable-feature=native-histograms
start_server classic

# value URL QUERY [TIME]: the single value of an instant query, nothing when there is none (or
# it is not a finite positive number).
value() {
	curl -sS --max-time 5 --get --data-urlencode "query=$2" ${3:+--data-urlencode "time=$3"} \
		"$1/api/v1/query" 2>/dev/null | "$PYTHON" -c 'import json, math, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    v = float(r[0]["value"][1]) if len(r) == 1 else math.nan
except Exception:
    v = math.nan
print(repr(v) if 0 < v < math.inf else "")'
}

metric=kobs_runqueue_latency_seconds
selector="$metric{group=\"kn_burn\"}"
native_q() { echo "histogram_quantile($1, rate($selector[30s]))"; }
classic_q() { echo "histogram_quantile($1, sum by (le) (rate(${metric}_bucket{group=\"kn_burn\"}[30s])))"; }

# Wait (bounded) until both servers answer, then give rate() ten seconds of scrapes.
ready=0
for _ in $(seq 1 $(($(scaled 30) * 2))); do
	if [ -n "$(value "$PROM_native" "$(native_q 0.9)")" ] &&
		[ -n "$(value "$PROM_classic" "$(classic_q 0.9)")" ]; then
		ready=1
		break
	fi
	sleep 0.5
done
[ $ready = 1 ] || fail "no run-queue quantile of kn_burn from both servers in $(scaled 30) s:" \
	"native: $(tail -n 5 "$WORK/native/log"); classic: $(tail -n 5 "$WORK/classic/log")"
sleep 10

# The native server holds the native histogram, and none of its classic series.
curl -sS --max-time 5 --get --data-urlencode "query=$selector" "$PROM_native/api/v1/query" |
	"$PYTHON" -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
assert len(r) == 1 and "histogram" in r[0], r
print("# native series: count %s, sum %s, %d buckets" % (r[0]["histogram"][1]["count"],
      r[0]["histogram"][1]["sum"], len(r[0]["histogram"][1]["buckets"])))' ||
	fail "the native-histogram server holds no native $selector"
pass "Prometheus 2.42 with native histograms ingests $metric as a native histogram"

now=$(date +%s.%N)
for q in 0.5 0.9 0.99; do
	native=$(value "$PROM_native" "$(native_q $q)" "$now")
	classic=$(value "$PROM_classic" "$(classic_q $q)" "$now")
	[ -n "$native" ] && [ -n "$classic" ] ||
		fail "quantile $q: native '$native', classic '$classic'"
	"$PYTHON" -c 'import sys
n, c = float(sys.argv[1]), float(sys.argv[2])
print("# quantile %s: native %.4g s, classic %.4g s, native/classic %.3f" % (sys.argv[3], n, c, n / c))
sys.exit(0 if 0.5 <= n / c <= 2 else 1)' "$native" "$classic" "$q" ||
		fail "quantile $q: native $native s and classic $classic s are more than a bucket apart"
done
pass "histogram_quantile over the native series agrees with the classic buckets within a bucket"

for name in native classic; do
	url=PROM_$name
	echo "# $name: $(value "${!url}" 'scrape_samples_scraped{job="kobsd"}') samples per scrape"
done
stop_kobsd || fail "exit status"
