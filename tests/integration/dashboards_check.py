#!/usr/bin/python3
"""The static half of tests/integration/dashboards.sh: grafana/dashboards/*.json follow the rules
of grafana's dashboard-linter and the node-exporter mixin that the README promises.

  dashboards_check.py DASHBOARD_DIR

Beyond the linter, the rules of issue 14: every series kept per instance (and whatever else
its aggregation keeps) and named so in its legend; legends as tables with last, max and mean;
no panel mixing a count and a 0-1 ratio on one axis; the group variable listing the top groups
by CPU (All meaning those); all-zero process states left out; a stat row on the host dashboard.

Prints "ok - ..." per rule that holds for every dashboard and "FAIL: ..." per breach (naming
the dashboard and panel), and exits 1 when any failed."""
import json
import os
import re
import sys

import verdicts
from verdicts import bad, check, ok

FILTERS = ('job=~"$job"', 'instance=~"$instance"')
LEGEND_CALCS = {"lastNotNull", "max", "mean"}
# The host dashboard's first row: uptime, load, memory available, pressure.
HOST_STATS = ("kobs_boot_time_seconds", "kobs_load1", "kobs_memory_available_bytes",
              "kobs_pressure_stalled_seconds_total")


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


def bad_ranges(expr):
    """Range selectors other than [$__rate_interval]. [$__range] is allowed in the one form
    that looks at the dashboard's whole time range from every step: `[$__range] @ end()`."""
    found = []
    for m in re.finditer(r"\[([^\]]+)\]", expr):
        w = m.group(1)
        if w == "$__range" and expr[m.end():].startswith(" @ end()"):
            continue
        if w != "$__rate_interval":
            found.append(w)
    return found


def kept_labels(expr):
    """The labels the query's aggregations keep (`by (...)`), le aside."""
    labels = []
    for m in re.finditer(r"\bby \(([^)]*)\)", expr):
        labels += [l.strip() for l in m.group(1).split(",") if l.strip() not in ("", "le")]
    return labels


def legend_problems(where, panel):
    """Each series named by every label it is kept by; legends as tables with the figures."""
    if panel["type"] not in ("timeseries", "stat"):
        return
    for t in panel["targets"]:
        missing = [l for l in dict.fromkeys(kept_labels(t["expr"]))
                   if "{{%s}}" % l not in t.get("legendFormat", "")]
        if "instance" in t["expr"] and "{{instance}}" not in t.get("legendFormat", ""):
            missing.append("instance")
        if missing:
            bad(f"{where}: the legend {t.get('legendFormat')!r} leaves out {missing}")
    if panel["type"] == "timeseries":
        legend = panel.get("options", {}).get("legend", {})
        if legend.get("displayMode") != "table" or not LEGEND_CALCS <= set(legend.get("calcs", [])):
            bad(f"{where}: the legend is not a table with {sorted(LEGEND_CALCS)}")


def aggregation_problems(where, panel):
    """Every aggregation keeps the instance: a sum over hosts hides which one suffers (the
    heatmaps' `sum by (le)` is the linter's rule, and its description says so)."""
    if panel["type"] == "heatmap":
        return
    for t in panel["targets"]:
        for m in re.finditer(r"\bby \(([^)]*)\)", t["expr"]):
            if "instance" not in [l.strip() for l in m.group(1).split(",")]:
                bad(f"{where}: `{m.group(0)}` sums over every instance")


def unit_problems(where, panel):
    """A 0-1 ratio and a count on one axis flatten one of them: separate panels, or an override
    that gives the ratio its own unit."""
    kinds = {"ratio" if "_ratio" in t["expr"] else "other" for t in panel["targets"]}
    overridden = any(p.get("id") == "unit" for o in panel.get("fieldConfig", {}).get("overrides", [])
                     for p in o.get("properties", []))
    if len(kinds) > 1 and not overridden:
        bad(f"{where}: a ratio and a count share one axis and unit")


def zero_problems(where, panel):
    """Process states are served for every group, zeros included: a panel of them leaves out
    the series that are 0 all through the time range."""
    for t in panel["targets"]:
        e = t["expr"]
        if "kobs_group_processes" in e and not re.search(
                r"max_over_time\(kobs_group_processes\{[^}]*\}\[\$__range\] @ end\(\)\)\) > 0\)$", e):
            bad(f"{where}: draws the states that stay 0 (filter them with max_over_time over "
                "[$__range] @ end() > 0)")


def group_variable_problems(name, var):
    """The group variable lists the top $top groups by CPU and defaults to All of them: with no
    custom all value, All expands to the listed groups, so the default is the top 10, and the
    $top variable's "all" widens the list to every group."""
    g, top = var.get("group"), var.get("top")
    if g is None:
        return
    q = g.get("query", {})
    q = q.get("query", "") if isinstance(q, dict) else q
    good = (g.get("type") == "query" and q.startswith("query_result(topk($top,") and
            "kobs_group_cpu_seconds_total" in q and all(f in q for f in FILTERS) and
            g.get("regex") and g.get("multi") and g.get("includeAll") and
            not g.get("allValue") and g.get("current", {}).get("value") == ["$__all"])
    check(good, f"{name}: the group variable is the top groups by CPU, All by default",
          f"{name}: the group variable is not query_result(topk($top, ...)) by CPU with a regex, "
          "multi, All without a custom all value, and All by default")
    choices = {o.get("text"): o.get("value") for o in (top or {}).get("options", [])}
    good = (top is not None and top.get("type") == "custom" and
            top.get("current", {}).get("value") == "10" and "all" in choices and
            float(choices["all"]) >= 1e6)
    check(good, f"{name}: the top variable defaults to 10 and offers all",
          f"{name}: no custom variable top defaulting to 10 with an \"all\" choice")


def host_stats_problems(name, dash):
    first = [p for p in dash["panels"] if p["gridPos"]["y"] == 0]
    exprs = " ".join(t["expr"] for p in first if p["type"] == "stat" for t in p["targets"])
    missing = [m for m in HOST_STATS if m not in exprs]
    check(first and all(p["type"] == "stat" for p in first) and not missing,
          f"{name}: a first row of stat panels (uptime, load, memory available, pressure)",
          f"{name}: the first row is not stat panels of {list(HOST_STATS)} (missing {missing})")


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
                for w in bad_ranges(e):
                    bad(f"{where}: range [{w}], not [$__rate_interval]")
                for m in re.finditer(r"\b([a-z_]+_total)\b", e):
                    before = e[:m.start()]
                    if not re.search(r"(rate|increase)\(\s*$", before):
                        bad(f"{where}: {m.group(1)} not wrapped in rate() or increase()")
            legend_problems(where, p)
            aggregation_problems(where, p)
            unit_problems(where, p)
            zero_problems(where, p)
            if p["type"] == "heatmap":
                t = p["targets"][0]
                good = (t.get("format") == "heatmap" and t.get("legendFormat") == "{{le}}" and
                        t["expr"].startswith("sum by (le) (rate(") and
                        p["options"].get("calculate") is False and
                        p["options"].get("yAxis", {}).get("unit") == "s")
                if not good:
                    bad(f"{where}: heatmap not as the linter wants (sum by (le) (rate(...)), "
                        "format heatmap, legend {{le}}, calculate false, y unit s)")
        group_variable_problems(name, var)
        if uid == "kobsd-host":
            host_stats_problems(name, dash)
    ok(f"{len(uids)} dashboards read")
    sys.exit(1 if verdicts.failures else 0)


if __name__ == "__main__":
    main()
