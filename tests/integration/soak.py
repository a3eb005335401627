#!/usr/bin/python3
"""The scraping side of tests/integration/soak.sh.

  soak.py URL PID --seconds S --warmup S --interval S --timeout S [--cafile F] [--user U:P]

Scrapes URL/metrics every `interval` seconds on one kept-alive connection, as Prometheus does,
taking turns with text, OpenMetrics and gzip; over HTTPS (trusting --cafile) for an https URL,
with basic authentication when --user is given. Fails at once when a scrape fails or does not parse,
or when a counter (a `_total` sample, a histogram's `_count` and `_bucket`, a summary's `_count`)
is lower than in the previous scrape for the same series (a series that disappears, such as an
expired process group's, may come back from zero; the process groups that appear after the first
scrape and those that vanish are reported). Samples the daemon's resident memory and
open file descriptors after every scrape, and prints one JSON object with the figures at the
end of the warm-up and at the end of the run.
"""
import argparse
import base64
import gzip
import http.client
import json
import os
import ssl
import statistics
import sys
import time
import urllib.parse

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
# (Accept, Accept-Encoding, parser) taken in turn
FORMATS = [
    ("text/plain;version=0.0.4", "identity", parse_text),
    (OPENMETRICS, "identity", parse_om),
    ("text/plain;version=0.0.4", "gzip", parse_text),
]


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Scraper:
    def __init__(self, url, timeout, cafile=None, user=None):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path or "/metrics"
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=cafile) if u.scheme == "https" else None
        self.auth = {"Authorization": "Basic " + base64.b64encode(user.encode()).decode()} \
            if user else {}
        self.conn = None
        self.reconnects = -1
        self.retries = 0

    def connect(self):
        if self.context:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def get(self, accept, encoding):
        # The daemon may close a kept-alive connection (after --web.timeout of idleness, say):
        # then one retry on a new connection, counted.
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self.connect()
                self.reconnects += 1
            try:
                self.conn.request("GET", self.path, headers={
                    "Accept": accept, "Accept-Encoding": encoding, **self.auth})
                resp = self.conn.getresponse()
                body = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                self.retries += 1
                continue
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            if resp.status != 200:
                raise ValueError(f"status {resp.status}")
            if resp.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return body.decode("utf-8")


def counter_samples(families):
    """{(sample name, labels): value} for every sample that must never decrease."""
    out = {}
    for fam in families:
        for s in fam.samples:
            if fam.type == "counter" and s.name.endswith("_total"):
                pass
            elif fam.type == "histogram" and s.name.endswith(("_count", "_bucket")):
                pass
            elif fam.type == "summary" and s.name.endswith("_count"):
                pass
            else:
                continue
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("pid", type=int)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--warmup", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--cafile")
    p.add_argument("--user", help="NAME:PASSWORD for basic authentication")
    args = p.parse_args()

    scraper = Scraper(args.url, args.timeout, args.cafile, args.user)
    last = {}  # series -> (value, scrape number)
    samples = []  # (seconds since start, rss KiB, fds)
    scrapes = 0
    checked = vanished = 0
    ever, groups_appeared, groups_vanished = set(), set(), set()
    first_forks = last_forks = None
    start = time.monotonic()
    next_at = start
    while time.monotonic() - start < args.seconds:
        accept, encoding, parse = FORMATS[scrapes % len(FORMATS)]
        try:
            text = scraper.get(accept, encoding)
            families = list(parse(text))
        except Exception as e:  # any failure breaks the contract
            die(f"scrape {scrapes + 1} ({accept}, {encoding}) failed after "
                f"{time.monotonic() - start:.1f} s: {type(e).__name__}: {e}")
        scrapes += 1
        values = counter_samples(families)
        for key, value in values.items():
            if key in last and value < last[key][0]:
                die(f"counter went backwards between scrapes {last[key][1]} and {scrapes}: "
                    f"{key[0]}{dict(key[1])} {last[key][0]} -> {value}")
            last[key] = (value, scrapes)
        # A series that is gone (an expired process group) may come back from zero.
        for key in [k for k in last if k not in values]:
            del last[key]
            vanished += 1
            if key[0].startswith("kobs_group_"):
                groups_vanished.add(dict(key[1]).get("group"))
        for key in values:
            if key[0].startswith("kobs_group_") and key not in ever and scrapes > 1:
                groups_appeared.add(dict(key[1]).get("group"))
            ever.add(key)
        checked += len(values)
        forks = values.get(("kobs_forks_total", ()))
        if forks is not None:
            first_forks = forks if first_forks is None else first_forks
            last_forks = forks
        samples.append((time.monotonic() - start, rss_kib(args.pid), open_fds(args.pid)))
        next_at += args.interval
        time.sleep(max(0.0, next_at - time.monotonic()))

    # The figures after the warm-up and at the end: medians over 2 s, so that one sample taken
    # while a connection is being set up or torn down does not decide.
    after_warmup = [s for s in samples if args.warmup <= s[0] < args.warmup + 2]
    at_end = [s for s in samples if s[0] >= samples[-1][0] - 2]
    if not after_warmup:
        die(f"no scrape in the 2 s after the warm-up ({scrapes} scrapes in all)")
    result = {
        "seconds": round(samples[-1][0], 1),
        "scrapes": scrapes,
        "counter_samples_checked": checked,
        "series_watched": len(last),
        "series_vanished": vanished,
        "groups_appeared_late": len(groups_appeared - {None}),
        "groups_vanished": sorted(g for g in groups_vanished if g),
        "forks_seen": int(last_forks - first_forks) if first_forks is not None else None,
        "reconnects": scraper.reconnects,
        "retries": scraper.retries,
        "rss_kib_start": samples[0][1],
        "rss_kib_after_warmup": int(statistics.median(s[1] for s in after_warmup)),
        "rss_kib_end": int(statistics.median(s[1] for s in at_end)),
        "fds_after_warmup": int(statistics.median(s[2] for s in after_warmup)),
        "fds_end": int(statistics.median(s[2] for s in at_end)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
