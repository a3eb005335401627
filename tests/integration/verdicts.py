"""What the judging scripts of the integration tests share: one line per behaviour checked
("ok - ..." or "FAIL: ..."), a count of failures for the exit status, series names written as
the exposition writes them, and a parsed scrape."""
import os
import re

failures = 0


def ok(msg):
    print(f"ok - {msg}")


def bad(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}")


def check(cond, good, wrong):
    if cond:
        ok(good)
    else:
        bad(wrong)
    return cond


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series(name, labels):
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


class Scrape:
    """One scrape: its families by name, and its samples by sample name -> [(labels, value)]."""

    def __init__(self, path, parser):
        self.label = os.path.basename(path)
        with open(path, "rb") as f:
            self.raw = f.read()
        self.text = self.raw.decode("utf-8")  # strict: invalid UTF-8 must never be served
        self.families = {fam.name: fam for fam in parser(self.text)}
        self.samples = {}
        for fam in self.families.values():
            for s in fam.samples:
                self.samples.setdefault(s.name, []).append((s.labels, s.value))
        self.types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", self.text, re.M))
        self.absent = set()

    def find(self, name, **want):
        return [(lab, v) for lab, v in self.samples.get(name, [])
                if all(lab.get(k) == w for k, w in want.items())]

    def value(self, name, **want):
        """The one sample that matches, or None (a failure says which is missing)."""
        if name not in self.samples:
            if name not in self.absent:  # one failure for a family missing altogether
                self.absent.add(name)
                bad(f"{name} is not served at all ({self.label})")
            return None
        found = self.find(name, **want)
        if len(found) != 1:
            how = "missing" if not found else f"served {len(found)} times"
            bad(f"{series(name, want)} is {how} ({self.label})")
            return None
        return found[0][1]


def collector_succeeded(scrape, collector):
    """A failure unless kobs_scrape_collector_success{collector=...} is 1 in the scrape."""
    success = scrape.value("kobs_scrape_collector_success", collector=collector)
    if success is not None:
        check(success == 1, f'kobs_scrape_collector_success{{collector="{collector}"}} is 1',
              f'kobs_scrape_collector_success{{collector="{collector}"}} is {success}')
