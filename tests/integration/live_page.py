#!/usr/bin/python3
"""Drives kobsd's live page (/live) in headless Chromium and checks that a slow event provoked
while the page is open appears in it.

  live_page.py --url URL --group NAME [--screenshot PNG] [--timeout SECONDS] -- COMMAND...

Chromium is driven through the DevTools protocol over a pipe (--remote-debugging-pipe: JSON
messages ending in a NUL byte on descriptors 3 and 4), which needs no websocket library. The page
is opened; once its event stream says "live", COMMAND is started (it must cause a slow event of
its own process, in group NAME); the check waits until the page has a row for an event of that
pid and group, and until the groups table has been drawn from two samples of /metrics. With
--screenshot, the page is then captured as a PNG.

Prints "ok - ..." per check and "FAIL: ..." per problem; exits 1 when any failed."""
import argparse
import base64
import select
import json
import os
import subprocess
import sys
import tempfile
import time

import verdicts
from verdicts import bad, ok


class Chromium:
    def __init__(self, chromium, profile, width, height):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        env = dict(os.environ, HOME=profile, XDG_CACHE_HOME=profile, XDG_CONFIG_HOME=profile)

        def fds():
            # Out of the way first: either may already be 3 or 4.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--hide-scrollbars",
             "--force-device-scale-factor=1", f"--window-size={width},{height}",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)

    def _message(self, deadline):
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_chrome], [], [], 0.5)
            if ready:
                chunk = os.read(self.from_chrome, 65536)
                if not chunk:
                    raise RuntimeError("Chromium closed its end of the pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, timeout=30, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def open(self, url):
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return r.get("result", {}).get("value")


def wait_for(chrome, expression, seconds):
    """The value of `expression` once truthy, or None after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = chrome.evaluate(expression)
        if value:
            return value
        time.sleep(0.25)
    return None


ROWS = """JSON.stringify([...document.querySelectorAll('#events tr[id^="event-"]')].map(
  tr => [...tr.children].map(td => td.textContent)))"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--screenshot")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="kobs-chromium.") as profile:
        chrome = Chromium(args.chromium, profile, 1400, 900)
        provoker = None
        try:
            chrome.open(args.url)
            if not wait_for(chrome, "document.getElementById('status') && "
                            "document.getElementById('status').textContent === 'live'",
                            args.timeout):
                bad(f"the page's event stream did not go live in {args.timeout:.0f} s")
                return
            ok("the page is open and its event stream is live")
            provoker = subprocess.Popen(args.command)
            pid = str(provoker.pid)
            found = None
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline and not found:
                rows = json.loads(chrome.evaluate(ROWS) or "[]")
                found = next((r for r in rows if r[3] == pid and r[2] == args.group), None)
                time.sleep(0.25)
            if not found:
                bad(f"no row for an event of pid {pid} in group {args.group} appeared in "
                    f"{args.timeout:.0f} s; rows: {json.dumps(rows[:5])}")
            else:
                ok(f"the event provoked after the page opened is shown: {' | '.join(found)}")
            groups = wait_for(chrome, "document.querySelectorAll('#groups tr.group').length",
                              args.timeout)
            if not groups:
                bad(f"the groups table was not drawn in {args.timeout:.0f} s")
            else:
                ok(f"the groups table shows {groups} groups")
            if args.screenshot:
                shot = chrome.call("Page.captureScreenshot", {"format": "png"})
                with open(args.screenshot, "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
                ok(f"screenshot in {args.screenshot}")
        except Exception as e:  # a broken pipe or protocol error is a failure, said once
            bad(f"driving Chromium failed: {e}")
        finally:
            if provoker:
                provoker.wait(timeout=30)
            chrome.close()


if __name__ == "__main__":
    main()
    sys.exit(1 if verdicts.failures else 0)
