#!/usr/bin/python3
"""The static half of tests/integration/dashboards.sh: grafana/dashboards/*.json follow the rules
of grafana's dashboard-linter and the node-exporter mixin that the README promises.

  dashboards_check.py DASHBOARD_DIR

Prints "ok - ..." per rule that holds for every dashboard and "FAIL: ..." per breach (naming
the dashboard and panel), and exits 1 when any failed."""
import json
import os
import re
import sys

import verdicts
from verdicts import bad, check, ok

FILTERS = ('job=~"$job"', 'instance=~"$instance"')


def selectors_without_filter(expr):
    """Metric selectors of the query that lack the job and instance filters."""
    missing = []
    for m in re.finditer(r"([a-z_:][a-z0-9_:]*)\{([^}]*)\}", expr):
        if not all(f in m.group(2) for f in FILTERS):
            missing.append(m.group(0))
    for m in re.finditer(r"\b((?:kobs|process|scrape)_[a-z0-9_]+)\b(\{)?", expr):
        if not m.group(2):
            missing.append(m.group(1) + " (no selector)")
    return missing


def main():
    d = sys.argv[1]
    uids = set()
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        try:
            with open(path, encoding="utf-8") as f:
                dash = json.load(f)
        except ValueError as e:
            bad(f"{name} is not valid JSON: {e}")
            continue
        uid = dash.get("uid", "")
        check(uid and uid not in uids and uid == name[:-5], f"{name}: stable uid {uid}",
              f"{name}: uid {uid!r} missing, repeated or unlike the file name")
        uids.add(uid)
        check("__inputs" not in dash and "${DS_" not in json.dumps(dash),
              f"{name}: no __inputs placeholders", f"{name}: uses __inputs placeholders")
        var = {v["name"]: v for v in dash["templating"]["list"]}
        check(var.get("datasource", {}).get("type") == "datasource" and
              var["datasource"].get("query") == "prometheus",
              f"{name}: a prometheus datasource variable", f"{name}: no datasource variable")
        for v in ("job", "instance"):
            check(v in var and var[v].get("multi") and var[v].get("allValue") == ".+",
                  f"{name}: {v} variable, multi, allValue .+",
                  f"{name}: the {v} variable is missing or not multi with allValue .+")
        check(any(l.get("tags") == ["kobsd"] for l in dash.get("links", [])),
              f"{name}: links to the other kobsd dashboards", f"{name}: no dashboard links")
        for p in dash["panels"]:
            where = f"{name} panel {p['title']!r}"
            if p.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
                bad(f"{where}: datasource is not ${{datasource}}")
            for t in p["targets"]:
                e = t["expr"]
                miss = selectors_without_filter(e)
                if miss:
                    bad(f"{where}: selectors without the job/instance filters: {miss}")
                for w in re.findall(r"\[([^\]]+)\]", e):
                    if w != "$__rate_interval":
                        bad(f"{where}: range [{w}], not [$__rate_interval]")
                for m in re.finditer(r"\b([a-z_]+_total)\b", e):
                    before = e[:m.start()]
                    if not re.search(r"(rate|increase)\(\s*$", before):
                        bad(f"{where}: {m.group(1)} not wrapped in rate() or increase()")
            if p["type"] == "heatmap":
                t = p["targets"][0]
                good = (t.get("format") == "heatmap" and t.get("legendFormat") == "{{le}}" and
                        t["expr"].startswith("sum by (le) (rate(") and
                        p["options"].get("calculate") is False and
                        p["options"].get("yAxis", {}).get("unit") == "s")
                if not good:
                    bad(f"{where}: heatmap not as the linter wants (sum by (le) (rate(...)), "
                        "format heatmap, legend {{le}}, calculate false, y unit s)")
    ok(f"{len(uids)} dashboards read")
    sys.exit(1 if verdicts.failures else 0)


if __name__ == "__main__":
    main()
