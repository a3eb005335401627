#!/usr/bin/python3
"""Misbehaving clients for tests/integration/abuse.sh, and the well-behaved scraper that must keep
getting answers meanwhile. Standard library only, plus prometheus_client's parser.

  abuse.py slowloris HOST PORT --from ADDR:COUNT... --hold S --limit S [--release]
  abuse.py scrape HOST PORT --from ADDR (--seconds S | --until FILE) --timeout S [--max-seconds S]
  abuse.py oversized HOST PORT --timeout S
  abuse.py garbage HOST PORT --seed N --count N
  abuse.py reconnect HOST PORT --from ADDR --clients N --seconds S

Each prints one JSON object with its figures on stdout, and exits 1 with a reason on stderr when
what it saw breaks the contract.
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import random
import select
import socket
import sys
import time
import http.client

from prometheus_client.openmetrics.parser import text_string_to_metric_families

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def established_to(port):
    """Connections the daemon holds: ESTABLISHED TCP sockets whose local port is `port`."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except FileNotFoundError:
            pass
    return n


# ---- slowloris ----


class Trickler:
    """One connection sending a request that never ends, one byte per tick."""

    REQUEST = b"GET /metrics HTTP/1.1\r\nHost: kobsd\r\nX-Slow: " + b"a" * 100000

    def __init__(self, host, port, source):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(5)
        self.sock.connect((host, port))
        self.sock.setblocking(False)
        self.opened = time.monotonic()
        self.sent = 0

    def closed_by_peer(self):
        """True once the daemon has closed or reset the connection."""
        try:
            return self.sock.recv(4096) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def trickle(self):
        try:
            self.sock.send(self.REQUEST[self.sent:self.sent + 1])
            self.sent += 1
            return True
        except BlockingIOError:
            return True
        except OSError:
            return False


def slowloris(args):
    sources = []
    for spec in args.sources:
        addr, count = spec.rsplit(":", 1)
        sources.append((addr, int(count)))
    conns = {addr: [] for addr, _ in sources}
    opened = refused = 0
    held_peak = server_peak = 0
    lifetimes = []  # of connections the daemon held for at least a tick, then closed
    start = time.monotonic()
    while True:
        now = time.monotonic()
        attacking = now - start < args.hold
        if not attacking and args.release:
            for addr in conns:
                for c in conns[addr]:
                    c.sock.close()
                conns[addr] = []
        if not attacking and not any(conns.values()):
            break
        if now - start > args.hold + args.limit:
            break
        if attacking:
            for addr, count in sources:
                while len(conns[addr]) < count:
                    try:
                        conns[addr].append(Trickler(args.host, args.port, addr))
                        opened += 1
                    except OSError:
                        refused += 1
                        break
        time.sleep(args.tick)
        now = time.monotonic()
        for addr in conns:
            alive = []
            for c in conns[addr]:
                if c.closed_by_peer() or not c.trickle():
                    c.sock.close()
                    if c.sent == 0:
                        refused += 1  # closed at once: over a connection limit
                    else:
                        lifetimes.append(now - c.opened)
                else:
                    alive.append(c)
            conns[addr] = alive
        held_peak = max(held_peak, sum(len(v) for v in conns.values()))
        server_peak = max(server_peak, established_to(args.port))
    still_open = sum(len(v) for v in conns.values())
    result = {
        "opened": opened,
        "refused_at_once": refused,
        "held_peak": held_peak,
        "daemon_established_peak": server_peak,
        "closed_by_daemon": len(lifetimes),
        "longest_held_seconds": round(max(lifetimes, default=0), 1),
        "still_open": still_open,
    }
    print(json.dumps(result))
    if still_open:
        die(f"{still_open} slow connections still open {args.limit} s after the attack")
    if lifetimes and max(lifetimes) > args.limit:
        die(f"a slow connection was held {max(lifetimes):.1f} s (limit {args.limit} s)")


# ---- the well-behaved scraper ----


def scrape_once(host, port, source, timeout):
    conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", "/metrics", headers={"Accept": OPENMETRICS, "Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise ValueError(f"status {resp.status}")
    text = body.decode("utf-8")
    families = list(text_string_to_metric_families(text))  # fails without the final "# EOF"
    if not any(s.name == "kobs_build_info" for f in families for s in f.samples):
        raise ValueError("no kobs_build_info in the answer")
    return families


def scrape(args):
    served = 0
    slowest = 0.0
    start = time.monotonic()
    while True:
        if args.until and os.path.exists(args.until):
            break
        if args.seconds and time.monotonic() - start >= args.seconds:
            break
        t = time.monotonic()
        try:
            scrape_once(args.host, args.port, args.source, args.timeout)
        except Exception as e:  # any failure breaks the contract
            print(json.dumps({"served": served}))
            die(f"scrape {served + 1} from {args.source} failed: {type(e).__name__}: {e}")
        served += 1
        took = time.monotonic() - t
        slowest = max(slowest, took)
        if args.max_seconds and took > args.max_seconds:
            print(json.dumps({"served": served, "slowest_seconds": round(slowest, 3)}))
            die(f"scrape {served} from {args.source} took {took:.2f} s (at most "
                f"{args.max_seconds} s allowed)")
        time.sleep(args.interval)
    print(json.dumps({"served": served, "slowest_seconds": round(slowest, 3)}))
    if served == 0:
        die("no scrape was made")


# ---- scrapers that reconnect for every scrape ----


def get_and_close(host, port, source, timeout):
    """One scrape on a connection of its own, closed by the client once the answer is read (as
    a scraper that does not keep connections alive does)."""
    sock = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))
    try:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: kobsd\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {len(data)} bytes, before the whole answer")
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if not sep:
                continue
            if not head.startswith(b"HTTP/1.1 200 "):
                raise ValueError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
            length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                return
    finally:
        sock.close()


def reconnect(args):
    stop_at = time.monotonic() + args.seconds
    failures = {}

    def client():
        served = 0
        while time.monotonic() < stop_at:
            try:
                get_and_close(args.host, args.port, args.source, args.timeout)
                served += 1
            except Exception as e:
                key = type(e).__name__
                failures[key] = failures.get(key, 0) + 1
        return served

    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        served = sum(pool.map(lambda _: client(), range(args.clients)))
    print(json.dumps({"clients": args.clients, "served": served, "failures": failures}))
    if failures:
        die(f"{sum(failures.values())} of {served + sum(failures.values())} scrapes failed: "
            f"{failures}")
    if served == 0:
        die("no scrape was made")


# ---- oversized requests ----


def exchange(host, port, payload, timeout):
    """Send `payload`, return the status code answered (0 for a close without answer)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            sock.sendall(payload)
        except OSError:
            pass  # the daemon may refuse before reading everything
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    if not data:
        return 0
    parts = data.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def oversized(args):
    host = b"Host: kobsd\r\nConnection: close\r\n"
    cases = {
        "header_70k": (b"GET /metrics HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 70000 +
                       b"\r\n\r\n", {431, 400, 0}),
        "header_name_40k": (b"GET /metrics HTTP/1.1\r\n" + host + b"X" * 40000 + b": y\r\n\r\n",
                            {431, 400, 0}),
        "headers_5000": (b"GET /metrics HTTP/1.1\r\n" + host +
                         b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n",
                         {431, 400, 0}),
        "url_40k": (b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n" + host + b"\r\n", {414, 400, 0}),
        # kobsd takes no query arguments: however many, they are ignored (tests/integration/
        # malformed.sh has more).
        "query_5000_args": (b"GET /metrics?" + b"a=b&" * 5000 + b" HTTP/1.1\r\n" + host + b"\r\n",
                            {200, 414, 400}),
    }
    got = {}
    for name, (payload, allowed) in cases.items():
        try:
            code = exchange(args.host, args.port, payload, args.timeout)
        except socket.timeout:
            die(f"{name}: neither answered nor closed within {args.timeout} s")
        got[name] = code
        if code not in allowed:
            die(f"{name}: answered {code}, expected one of {sorted(allowed)} (0: closed)")
    print(json.dumps(got))


# ---- garbage ----


def garbage_payloads(rng):
    """Malformed requests of many kinds, then random bytes."""
    fixed = [
        b"\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /metrics\r\n\r\n",  # HTTP/0.9
        b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: \x00\xff\xfe\r\n\r\n",
        b"GET /\x00\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /%00%ff%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n continuation\r\n\r\n",
        b"GET /metrics HTTP/1.1\nHost: x\n\n",  # bare LF
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"ffffffffffffffffff\r\nx\r\n",
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde",
        b"CONNECT kobsd:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: " + b"application/openmetrics-text;q=" * 500
        + b"\r\nAccept-Encoding: " + b"gzip;q=0.5," * 500 + b"\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!!\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 100,  # pipelined
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),  # a TLS ClientHello
        b"GET /metrics HTTP/1.1\r\nHo",  # cut short, then closed
    ]
    for p in fixed:
        yield p
    alphabet = b"GET /metrics HTTP/1.1\r\n:;=,\x00\xff \t%"
    while True:
        kind = rng.randrange(3)
        n = rng.randrange(1, 4000)
        if kind == 0:
            yield bytes(rng.randrange(256) for _ in range(n))
        elif kind == 1:
            yield bytes(rng.choice(alphabet) for _ in range(n))
        else:
            base = bytearray(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
            for _ in range(rng.randrange(1, 8)):
                base[rng.randrange(len(base))] = rng.randrange(256)
            yield bytes(base)


def send_garbage(host, port, payload, timeout):
    """Send one malformed request; the status answered, or "closed"."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            sock.sendall(payload)
        except OSError:
            pass  # refused before the end
        try:
            # The first bytes of an answer, or the close. An answered connection may be kept
            # alive, so this does not wait for the close.
            first = sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"{payload[:60]!r} was neither answered nor closed within "
                               f"{timeout} s")
        except OSError:
            first = b""
    finally:
        sock.close()
    parts = first.split(b"\r\n", 1)[0].split()
    return parts[1].decode() if len(parts) > 1 else "closed"


def garbage(args):
    rng = random.Random(args.seed)
    payloads = list(itertools.islice(garbage_payloads(rng), args.count))
    answers = {}
    # Many at once: a request cut short is only closed by the daemon's timeout.
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        futures = [pool.submit(send_garbage, args.host, args.port, p, args.timeout)
                   for p in payloads]
        for f in futures:
            try:
                code = f.result()
            except TimeoutError as e:
                die(f"garbage request {e}")
            answers[code] = answers.get(code, 0) + 1
    print(json.dumps({"sent": len(payloads), "answers": answers}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("slowloris", "scrape", "oversized", "garbage", "reconnect"):
        s = sub.add_parser(name)
        s.add_argument("host")
        s.add_argument("port", type=int)
        s.add_argument("--timeout", type=float, default=10)
        if name == "slowloris":
            s.add_argument("--from", dest="sources", nargs="+", required=True)
            s.add_argument("--hold", type=float, required=True)
            s.add_argument("--limit", type=float, required=True)
            s.add_argument("--tick", type=float, default=1.0)
            s.add_argument("--release", action="store_true",
                           help="close the connections after --hold rather than wait for the "
                                "daemon to")
        elif name == "scrape":
            s.add_argument("--from", dest="source", default="127.0.0.1")
            s.add_argument("--seconds", type=float)
            s.add_argument("--until")
            s.add_argument("--interval", type=float, default=0.2)
            s.add_argument("--max-seconds", type=float, help="fail when a scrape takes longer")
        elif name == "reconnect":
            s.add_argument("--from", dest="source", default="127.0.0.1")
            s.add_argument("--clients", type=int, required=True)
            s.add_argument("--seconds", type=float, required=True)
        elif name == "garbage":
            s.add_argument("--seed", type=int, default=1)
            s.add_argument("--count", type=int, default=200)
            s.add_argument("--parallel", type=int, default=32)
    args = p.parse_args()
    {"slowloris": slowloris, "scrape": scrape, "oversized": oversized,
     "garbage": garbage, "reconnect": reconnect}[args.cmd](args)


if __name__ == "__main__":
    main()
