#!/usr/bin/python3
"""Judge kobsd's protobuf exposition with Google's own protobuf runtime (python3-protobuf) and the
schema in tests/proto/metrics.proto (io.prometheus.client, field for field), compiled by protoc.

  metricfamily.py check PROTOBUF [TEXT]
      Every message parses, knows no field the schema does not (no unknown fields), has valid
      UTF-8 strings, and follows the rules of the format; each histogram's classic buckets are
      well formed and, when it is also native, its native buckets say the same as the classic
      ones: the zero bucket is the first classic bucket, native bucket i the classic bucket whose
      upper bound is nearest 2^i, by one scale factor for the whole histogram. With TEXT (the
      same model in the text format), both must hold the same samples: names, label values
      (compared unescaped), values.
  metricfamily.py names PROTOBUF
      The family names, one a line.
  metricfamily.py exemplars PROTOBUF
      Each classic bucket's exemplar, one a line: family, the series' labels, the bucket's upper
      bound, the exemplar's labels, value and time (seconds since the epoch).
  metricfamily.py sizes PROTOBUF TEXT
      The series Prometheus stores from each: from the text, one per sample line; from protobuf
      with native histograms on, one per native histogram and one per other sample.

Prints what it found; exits 1 on the first violation.
"""
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "proto")

COUNTER, GAUGE, SUMMARY, UNTYPED, HISTOGRAM = 0, 1, 2, 3, 4


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def schema():
    out = tempfile.mkdtemp(prefix="kobs-proto.")
    subprocess.run(["protoc", "-I" + PROTO_DIR, "--python_out=" + out, "metrics.proto"],
                   check=True)
    sys.path.insert(0, out)
    import metrics_pb2  # noqa: E402 (generated just now)
    return metrics_pb2


def varint(data, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            fail("a length prefix runs past the end of the body")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            fail("a length prefix is longer than 10 bytes")


def families(pb2, data):
    out, pos = [], 0
    while pos < len(data):
        n, pos = varint(data, pos)
        if pos + n > len(data):
            fail("the last message is cut short: %d bytes announced, %d left" % (n, len(data) - pos))
        mf = pb2.MetricFamily()
        mf.ParseFromString(data[pos:pos + n])
        pos += n
        no_unknown_fields(mf, mf.name)
        out.append(mf)
    if not out:
        fail("no metric family at all")
    return out


def no_unknown_fields(msg, where):
    if len(msg.UnknownFields()):
        fail("%s: %d field(s) the schema does not know" % (where, len(msg.UnknownFields())))
    for field, value in msg.ListFields():
        if field.type == field.TYPE_STRING:
            values = value if field.label == field.LABEL_REPEATED else [value]
            for v in values:
                if not isinstance(v, str):
                    fail("%s: %s is not valid UTF-8: %r" % (where, field.name, v))
        if field.type == field.TYPE_MESSAGE:
            values = value if field.label == field.LABEL_REPEATED else [value]
            for v in values:
                no_unknown_fields(v, where)


def native_buckets(h):
    """{index: count} of a native histogram's positive buckets."""
    buckets, index, deltas, count = {}, 0, list(h.positive_delta), 0
    needed = sum(s.length for s in h.positive_span)
    if needed != len(deltas):
        fail("spans cover %d buckets, %d deltas" % (needed, len(deltas)))
    i = 0
    for n, span in enumerate(h.positive_span):
        if n > 0 and span.offset <= 0:
            fail("a span after the first has offset %d" % span.offset)
        index += span.offset
        for _ in range(span.length):
            count += deltas[i]
            i += 1
            if count < 0:
                fail("native bucket %d has a negative count" % index)
            buckets[index] = count
            index += 1
    return buckets


def finite_buckets(name, h):
    """The classic buckets but the +Inf one, which is written only to carry an exemplar."""
    buckets = list(h.bucket)
    if buckets and buckets[-1].upper_bound == math.inf:
        inf = buckets.pop()
        if inf.cumulative_count != h.sample_count:
            fail("%s: the +Inf bucket holds %d, the count is %d"
                 % (name, inf.cumulative_count, h.sample_count))
        if not inf.HasField("exemplar"):
            fail("%s: a +Inf bucket written with no exemplar to carry" % name)
    return buckets


def check_histogram(name, h):
    buckets = finite_buckets(name, h)
    bounds = [b.upper_bound for b in buckets]
    cumulative = [b.cumulative_count for b in buckets]
    if bounds != sorted(set(bounds)) or any(math.isinf(b) for b in bounds):
        fail("%s: classic bounds not strictly ascending and finite: %s" % (name, bounds))
    if cumulative != sorted(cumulative) or (cumulative and cumulative[-1] > h.sample_count):
        fail("%s: cumulative counts fall or pass the count" % name)
    if not h.HasField("zero_threshold"):
        if h.HasField("schema") or len(h.positive_span) or h.HasField("zero_count"):
            fail("%s: native fields without a zero threshold" % name)
        return False
    if h.schema != 0 or h.zero_threshold <= 0 or len(h.negative_span) or len(h.negative_delta):
        fail("%s: schema %d, zero threshold %g, negative buckets" % (name, h.schema, h.zero_threshold))
    if not bounds or h.zero_count != cumulative[0]:
        fail("%s: zero count %d, first classic bucket %s" % (name, h.zero_count, cumulative[:1]))
    # One scale for the whole histogram: the zero threshold over the first bound, within sqrt(2).
    scale = h.zero_threshold / bounds[0]
    if not 2 ** -0.5 <= scale <= 2 ** 0.5:
        fail("%s: scale %g is not the nearest power of two" % (name, scale))
    first = round(math.log2(h.zero_threshold))
    native = native_buckets(h)
    # Classic bucket k (k >= 1; k == len(bounds) is the overflow) is native bucket first + k.
    for k in range(1, len(bounds) + 1):
        upto = h.sample_count if k == len(bounds) else cumulative[k]
        want = upto - cumulative[k - 1]
        got = native.pop(first + k, 0)
        if got != want:
            fail("%s: native bucket %d holds %d, classic bucket %d holds %d"
                 % (name, first + k, got, k, want))
        if k < len(bounds) and abs(2.0 ** (first + k) / bounds[k] / scale - 1) > 1e-9:
            fail("%s: native bucket %d is not classic bucket %d scaled" % (name, first + k, k))
    if any(native.values()):
        fail("%s: native buckets with no classic counterpart: %s" % (name, native))
    return True


def check(pb2, data):
    seen, native, classic = set(), 0, 0
    for mf in families(pb2, data):
        if mf.name in seen:
            fail("family %s twice" % mf.name)
        seen.add(mf.name)
        if not mf.metric:
            fail("family %s has no metric" % mf.name)
        if mf.type == COUNTER and not mf.name.endswith("_total"):
            fail("counter %s does not end in _total" % mf.name)
        # Prometheus 3.0 to 3.8 fail the scrape on a unit that does not end the name.
        if mf.unit and not mf.name.endswith("_" + mf.unit):
            fail("%s has the unit %s, which does not end its name" % (mf.name, mf.unit))
        kinds = set()
        for m in mf.metric:
            which = [f.name for f, _ in m.ListFields() if f.name != "label"]
            want = {COUNTER: "counter", GAUGE: "gauge", HISTOGRAM: "histogram",
                    SUMMARY: "summary", UNTYPED: "untyped"}.get(mf.type)
            if which != [want]:
                fail("%s (type %d) carries %s" % (mf.name, mf.type, which))
            if mf.type == HISTOGRAM:
                kinds.add(check_histogram(mf.name, m.histogram))
        if len(kinds) > 1:
            fail("%s: native and classic histograms in one family" % mf.name)
        native += kinds == {True}
        classic += kinds == {False}
    print("# %d families; histogram families: %d native (with classic buckets), %d classic only"
          % (len(seen), native, classic))
    return native


def samples_of_protobuf(fams):
    """The samples the text format writes for the same model: (name, labels, value)."""
    out = []
    for mf in fams:
        for m in mf.metric:
            labels = tuple(sorted((lp.name, lp.value) for lp in m.label))
            if mf.type == HISTOGRAM:
                h = m.histogram
                for b in finite_buckets(mf.name, h):
                    out.append((mf.name + "_bucket", labels + (("le", b.upper_bound),),
                                float(b.cumulative_count)))
                out.append((mf.name + "_bucket", labels + (("le", math.inf),),
                            float(h.sample_count)))
                out.append((mf.name + "_sum", labels, h.sample_sum))
                out.append((mf.name + "_count", labels, float(h.sample_count)))
            elif mf.type == SUMMARY:
                for q in m.summary.quantile:
                    out.append((mf.name, labels + (("quantile", q.quantile),), q.value))
                out.append((mf.name + "_sum", labels, m.summary.sample_sum))
                out.append((mf.name + "_count", labels, float(m.summary.sample_count)))
            elif mf.type == UNTYPED:
                out.append((mf.name, labels, m.untyped.value))
            elif mf.type == COUNTER:
                out.append((mf.name, labels, m.counter.value))
            else:
                out.append((mf.name, labels, m.gauge.value))
    return out


def samples_of_text(text):
    from prometheus_client.parser import text_string_to_metric_families
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            labels = dict(s.labels)
            for special in ("le", "quantile"):
                if special in labels:
                    labels[special] = float(labels[special])
            labels = tuple(sorted(labels.items(), key=lambda kv: kv[0]))
            out.append((s.name, labels, float(s.value)))
    return out


def same_samples(pb2, data, text):
    def key(s):
        name, labels, value = s
        return (name, tuple((k, str(v)) for k, v in labels), "nan" if math.isnan(value) else value)
    want = sorted(map(key, samples_of_text(text)))
    got = sorted(map(key, samples_of_protobuf(families(pb2, data))))
    if got != want:
        missing = [s for s in want if s not in got][:3]
        extra = [s for s in got if s not in want][:3]
        fail("protobuf and text differ: only in text %s; only in protobuf %s" % (missing, extra))
    print("# protobuf and text hold the same %d samples" % len(got))


def sizes(pb2, data, text):
    text_series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    native_series = histograms = 0
    for mf in families(pb2, data):
        native_series += len(mf.metric)
        if mf.type == HISTOGRAM:
            histograms += len(mf.metric)
            if not mf.metric[0].histogram.HasField("zero_threshold"):
                native_series += sum(len(m.histogram.bucket) + 2 for m in mf.metric)
    print("series: classic %d, native %d, histograms %d" % (text_series, native_series, histograms))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("check", "names", "sizes", "exemplars"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    pb2 = schema()
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    text = None
    if len(sys.argv) > 3:
        with open(sys.argv[3], encoding="utf-8") as f:
            text = f.read()
    if sys.argv[1] == "names":
        for mf in families(pb2, data):
            print(mf.name)
    elif sys.argv[1] == "exemplars":
        for mf in families(pb2, data):
            for m in mf.metric:
                series = ",".join("%s=%s" % (lp.name, lp.value) for lp in m.label)
                for b in m.histogram.bucket:
                    if not b.HasField("exemplar"):
                        continue
                    x = b.exemplar
                    who = ",".join("%s=%s" % (lp.name, lp.value) for lp in x.label)
                    t = x.timestamp.seconds + x.timestamp.nanos / 1e9
                    print("%s {%s} %r {%s} %r %.3f" % (mf.name, series, b.upper_bound, who,
                                                        x.value, t))
    elif sys.argv[1] == "check":
        check(pb2, data)
        if text is not None:
            same_samples(pb2, data, text)
    else:
        sizes(pb2, data, text)


if __name__ == "__main__":
    main()
