#!/usr/bin/python3
"""Scrapers for tests/integration/web_reload.sh: HTTPS scrapes with basic authentication, without
a pause, until a file appears. Half of them open a connection for every scrape and close it
after the answer (as curl does); the other half keep one connection alive across scrapes (as
Prometheus does) and open a new one only when the daemon says "Connection: close". There are no
retries: any scrape that fails, on either kind, is a failure.

  reload.py HOST PORT --cafile FILE --user NAME:PASSWORD --until FILE --fresh N --kept N
            --timeout S

Prints one JSON object with the figures; exits 1, with the first failures on stderr, when any
scrape failed.
"""
import argparse
import base64
import http.client
import json
import os
import ssl
import sys
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--cafile", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--until", required=True)
    p.add_argument("--fresh", type=int, required=True)
    p.add_argument("--kept", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10)
    args = p.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    auth = "Basic " + base64.b64encode(args.user.encode()).decode()
    lock = threading.Lock()
    figures = {"served": 0, "new_connections": 0, "failed": 0}
    failures = []

    def connect():
        with lock:
            figures["new_connections"] += 1
        return http.client.HTTPSConnection(args.host, args.port, timeout=args.timeout,
                                           context=context)

    def scraper(keep_alive):
        conn = None
        while not os.path.exists(args.until):
            try:
                if conn is None:
                    conn = connect()
                conn.request("GET", "/metrics", headers={"Authorization": auth})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or b"kobs_build_info" not in body:
                    raise ValueError(f"status {resp.status}, {len(body)} bytes")
                if not keep_alive or resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
                with lock:
                    figures["served"] += 1
            except Exception as e:  # any failure breaks the contract
                with lock:
                    figures["failed"] += 1
                    failures.append(f"{'kept-alive' if keep_alive else 'fresh'} connection, "
                                    f"{time.strftime('%H:%M:%S')}: {type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None

    threads = [threading.Thread(target=scraper, args=(False,)) for _ in range(args.fresh)]
    threads += [threading.Thread(target=scraper, args=(True,)) for _ in range(args.kept)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(figures))
    if failures:
        print(f"{len(failures)} scrapes failed; the first ones:", file=sys.stderr)
        for f in failures[:5]:
            print("  " + f, file=sys.stderr)
        sys.exit(1)
    if figures["served"] == 0:
        print("no scrape was served", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
