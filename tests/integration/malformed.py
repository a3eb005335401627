#!/usr/bin/python3
"""Malformed requests for tests/integration/malformed.sh: each must get one well-formed answer
with the status the case names, at once (well before the daemon's request deadline), and never
be served as if it were a request for /metrics.

  malformed.py HOST PORT --within SECONDS CASE...

Each case prints "ok CASE: what was answered" on stdout; the first that breaks its expectation
prints the reason on stderr and exits 1.
"""
import argparse
import re
import socket
import sys
import time

HOST = b"Host: kobsd\r\n"
SMUGGLED = b"GET /nope HTTP/1.1\r\nHost: kobsd\r\n\r\n"


def query(n):
    return b"GET /metrics?" + b"&".join(b"a%d=b" % i for i in range(n)) + b" HTTP/1.1\r\n"


# name: (bytes sent, allowed statuses, whether the connection must be closed after the answer)
CASES = {
    # libmicrohttpd 0.9.75 stores each query argument in the connection's memory; from about
    # 450 on they no longer fit and the request used to go unanswered until --web.timeout.
    "query_500_args": (query(500) + HOST + b"\r\n", {200, 400, 414}, False),
    "query_3000_args": (query(3000) + HOST + b"\r\n", {200, 400, 414}, False),
    "query_6000_empty_args": (b"GET /metrics?" + b"&" * 6000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
                              {200, 400, 414}, False),
    # A NUL byte ends the target for libmicrohttpd: /metrics\0abc used to be served as /metrics.
    "nul_in_target": (b"GET /metrics\x00abc HTTP/1.1\r\n" + HOST + b"\r\n", {400}, True),
    "escaped_nul_in_target": (b"GET /metrics%00abc HTTP/1.1\r\n" + HOST + b"\r\n", {400}, True),
    "nul_then_query_500_args": (b"GET /metrics\x00x?" + b"&".join(b"a=b" for _ in range(500)) +
                                b" HTTP/1.1\r\n" + HOST + b"\r\n", {400}, True),
    # Two lengths: which one frames the body is ambiguous (request smuggling).
    "two_content_lengths": (b"GET /metrics HTTP/1.1\r\n" + HOST +
                            b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", {400}, True),
    # libmicrohttpd 0.9.75 sent its 400 header block twice for this one.
    "negative_content_length": (b"GET /metrics HTTP/1.1\r\n" + HOST + b"Content-Length: -1\r\n\r\n",
                                {400}, True),
    "content_length_not_a_number": (b"GET /metrics HTTP/1.1\r\n" + HOST +
                                    b"Content-Length: 12abc\r\n\r\n", {400}, True),
    "content_length_and_transfer_encoding": (b"GET /metrics HTTP/1.1\r\n" + HOST +
                                             b"Content-Length: 3\r\n"
                                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                                             {400}, True),
    # A body on a GET, followed by what would be a second request if the body were not skipped:
    # one answer, and the connection closed, so that the body is never taken for a request.
    "get_with_body": (b"GET /metrics HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n%s" %
                      (len(SMUGGLED), SMUGGLED), {400}, True),
}


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def read_answer(sock, deadline):
    """Everything the daemon sends until it closes or goes quiet for 0.5 s after an answer."""
    data = b""
    closed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(min(left, 0.5) if data else left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            if data:
                break  # answered and kept open
            continue
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    return data, closed


def check(name, payload, allowed, must_close, args):
    sock = socket.create_connection((args.host, args.port), timeout=args.within)
    start = time.monotonic()
    try:
        try:
            sock.sendall(payload)
        except OSError:
            pass  # answered and closed before everything was written
        data, closed = read_answer(sock, start + args.within)
    finally:
        sock.close()
    took = time.monotonic() - start
    if not data:
        die(f"{name}: no answer within {args.within} s" + (" (closed)" if closed else ""))
    status_lines = re.findall(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n", data)
    head, _, body = data.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0]
    m = re.match(rb"HTTP/1\.[01] (\d{3})", first)
    if not m:
        die(f"{name}: the answer does not start with a status line: {data[:80]!r}")
    status = int(m.group(1))
    if status not in allowed:
        die(f"{name}: answered {status}, expected one of {sorted(allowed)}: {first!r}")
    length = re.search(rb"\r\nContent-Length: (\d+)", head, re.I)
    if not length or int(length.group(1)) != len(body):
        die(f"{name}: a body of {len(body)} bytes does not match its header block: {data[:300]!r}")
    if len(status_lines) != 1:
        die(f"{name}: {len(status_lines)} status lines in the answer: {data[:300]!r}")
    if must_close and not closed:
        die(f"{name}: the connection was kept open after the answer")
    print(f"ok {name}: {status} in {took:.2f} s{', then closed' if closed else ''}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--within", type=float, required=True)
    p.add_argument("cases", nargs="*", default=list(CASES))
    args = p.parse_intermixed_args()
    for name in args.cases:
        payload, allowed, must_close = CASES[name]
        check(name, payload, allowed, must_close, args)


if __name__ == "__main__":
    main()
