#!/bin/bash
# The protobuf exposition, judged by Google's protobuf runtime with io.prometheus.client's schema
# (tests/proto/metrics.proto, compiled by protoc; tests/integration/metricfamily.py): a model full
# of hostile label values and HELP texts says in protobuf exactly what it says in text, and the
# daemon serves protobuf to Prometheus' native-histogram Accept header only, with its Content-Type,
# gzipped when allowed.
. "$(dirname "$0")/lib.sh"
: "${EXPO_DUMP:?EXPO_DUMP must point at tests/unit/expo_dump}"
command -v protoc >/dev/null || fail "protoc not installed (contrib/install-deps.sh: protobuf-compiler)"
"$PYTHON" -c 'import google.protobuf' 2>/dev/null ||
	fail "python3-protobuf not installed (contrib/install-deps.sh)"
check_protobuf() {
	"$PYTHON" "$KOBS_SRCDIR/tests/integration/metricfamily.py" check "$@" ||
		fail "the protobuf exposition $1 does not hold"
}

"$EXPO_DUMP" protobuf >"$WORK/dump.pb"
"$EXPO_DUMP" text >"$WORK/dump.txt"
check_protobuf "$WORK/dump.pb" "$WORK/dump.txt"
pass "hostile labels and HELP: protobuf parses with the reference schema and holds what text holds"

start_kobsd
headers() { curl -sS --max-time "$(scaled 10)" -D "$WORK/headers" -o "$@" "$KOBS_URL/metrics"; }
content_type() { tr -d '\r' <"$WORK/headers" | sed -n 's/^[Cc]ontent-[Tt]ype: //p'; }

headers "$WORK/metrics.pb" -H "Accept: $ACCEPT_PROM_242_NATIVE" || fail "curl failed"
[ "$(content_type)" = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' ] ||
	fail "protobuf served as $(content_type)"
check_protobuf "$WORK/metrics.pb"
pass "Prometheus with native histograms gets protobuf, with its Content-Type"

# Which families there are depends on the processes of the moment (a group's I/O families need
# one process whose I/O is readable), so the protobuf answer is taken between two text answers,
# until the three agree: a family one format lacks is lacking every time.
text_names() {
	fetch /metrics -o "$WORK/metrics.txt" && grep '^# TYPE' "$WORK/metrics.txt" | awk '{print $3}' | sort
}
for attempt in $(seq 1 20); do
	names_before=$(text_names)
	headers "$WORK/metrics.pb" -H "Accept: $ACCEPT_PROM_242_NATIVE" || fail "curl failed"
	names_pb=$("$PYTHON" "$KOBS_SRCDIR/tests/integration/metricfamily.py" names "$WORK/metrics.pb" |
		sort)
	names_text=$(text_names)
	[ "$names_before" = "$names_text" ] && [ "$names_text" = "$names_pb" ] && break
	sleep 0.2
done
[ "$names_text" = "$names_pb" ] || fail "text and protobuf serve different families" \
	"(20 tries; text before/after: $(diff <(echo "$names_before") <(echo "$names_text") | grep '^[<>]' | tr '\n' ' ')):" \
	"$(diff <(echo "$names_text") <(echo "$names_pb") | grep '^[<>]')"
pass "text and protobuf serve the same families"

headers "$WORK/metrics.pb.gz" -H "Accept: $ACCEPT_PROM_242_NATIVE" -H 'Accept-Encoding: gzip' ||
	fail "curl failed"
tr -d '\r' <"$WORK/headers" | matches -i '^content-encoding: gzip$' || fail "protobuf not gzipped"
gzip -dc "$WORK/metrics.pb.gz" >"$WORK/gunzipped.pb" || fail "the gzipped protobuf does not gunzip"
check_protobuf "$WORK/gunzipped.pb"
pass "gzip applies to protobuf"

for accept in "$ACCEPT_PROM_242" "$ACCEPT_PROM_3" '*/*' 'application/*'; do
	headers /dev/null -H "Accept: $accept" || fail "curl failed"
	case "$(content_type)" in
	application/vnd.google.protobuf*) fail "protobuf served to Accept: $accept" ;;
	esac
done
pass "no protobuf unless asked for by name"
stop_kobsd || fail "exit status"
