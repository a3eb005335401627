#!/usr/bin/python3
"""Draws kobsd's Grafana dashboards from a real Prometheus in headless Chromium, and checks
that every panel's data is drawn.

  dashboards_render.py --prometheus URL --start EPOCH --out DIR [--rate-interval 10s]
                       [--allow-empty REGEX=REASON]... [--copy-to DIR] DASHBOARD.json...

There is no Grafana package to run, so this does what Grafana would for each dashboard: it
resolves the template variables as Grafana does by default (job and instance: All, so their
custom all value; $top: its default; group: the query_result() of its query through its regex,
All of the listed values joined as a regular expression), substitutes $__rate_interval and
$__range, asks Prometheus the panels' queries over [--start, now] (query_range; instant for
tables), and writes one static HTML page per dashboard: every panel where its gridPos puts it,
drawn in plain SVG (time series with legend tables of last/max/mean, heatmaps of the
de-accumulated buckets, stat figures with sparklines, tables with gauges). Chromium takes a
screenshot of the page, and the screenshot is judged panel by panel: the panel's drawing area
must hold many coloured pixels (lines, cells, figures and gauges are drawn in colour; frames,
axes and text are grey), in several colours. A panel without data is labelled "No data" in grey
and fails, unless every query of the panel matches an --allow-empty pattern (the BPF run-time
panel while kernel.bpf_stats_enabled is 0, the kernel panels without BPF): then the label says
why and the panel is not judged.

Prints "ok - ..." per panel drawn and "FAIL: ..." per problem; exits 1 when any failed. The
screenshots are DIR/UID.png; --copy-to writes palette-reduced copies (docs/screenshots/)."""
import argparse
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import verdicts
from verdicts import bad, ok

WIDTH = 1600  # page width in px: Grafana's 24 columns
CELL_H, MARGIN = 30, 8  # Grafana's grid: a gridPos h unit is 30 px, panels 8 px apart
PAGE_BG, PANEL_BG, BORDER = "#111217", "#181b1f", "#2c3235"
TEXT, DIM, GRID = "#ccccdc", "#8e8e9a", "#2c3235"
# Grafana's classic palette, in its order.
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9",
           "#705da0", "#37872d", "#fade2a", "#447ebc", "#c15c17", "#890f02", "#0a437c",
           "#6d1f62", "#584477", "#b7dbab", "#f4d598", "#70dbed", "#f9ba8f"]
NAMED = {"green": "#73bf69", "orange": "#ff9830", "red": "#f2495c", "yellow": "#fade2a"}
# A pixel is data when it is this colourful (max - min of its channels); the page's greys and
# the text are below 20. A panel's drawing holds at least MIN_PIXELS of them: a line across the
# narrowest plot is about 600 (one flat line, as when every collector succeeds, has 1 colour).
CHROMA = 48
MIN_PIXELS = 120


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        q = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{q}", timeout=30) as r:
            answer = json.load(r)
        if answer.get("status") != "success":
            raise RuntimeError(answer.get("error", "query failed"))
        return answer["data"]

    def instant(self, expr, at):
        return self.get("/api/v1/query", query=expr, time=f"{at:.3f}")

    def range(self, expr, start, end, step):
        return self.get("/api/v1/query_range", query=expr, start=f"{start:.3f}",
                        end=f"{end:.3f}", step=str(step))


# --- Template variables, as Grafana resolves them by default -----------------------------

def regex_escape_for_promql(value):
    """Grafana's prometheusSpecialRegexEscape: a regex metacharacter gets a backslash, written
    twice because the regex sits in a PromQL string."""
    value = value.replace("\\", "\\\\\\\\").replace("'", "\\\\'")
    return re.sub(r"([$^*+?.()|\[\]{}])", r"\\\\\1", value)


def js_regex(text):
    """A Grafana variable regex, /pattern/flags, as a Python pattern."""
    m = re.fullmatch(r"/(.*)/([a-z]*)", text, re.S)
    if not m:
        return re.compile(text)
    return re.compile(m.group(1), re.I if "i" in m.group(2) else 0)


def query_result_lines(data):
    """query_result()'s options as Grafana writes them: `name{a="x",b="y"} value ms`."""
    lines = []
    for s in data["result"]:
        metric = dict(s["metric"])
        name = metric.pop("__name__", "")
        inner = ",".join(f'{k}="{v}"' for k, v in metric.items())
        lines.append(f"{name}{{{inner}}} {s['value'][1]} {int(float(s['value'][0]) * 1000)}")
    return lines


def interpolate(expr, values):
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${%s}" % name, values[name]).replace("$" + name, values[name])
    return expr


def resolve_variables(dash, prom, start, end, rate_interval):
    """The values Grafana substitutes when the dashboard opens with its saved defaults."""
    values = {"__rate_interval": rate_interval, "__range": f"{int(end - start)}s"}
    listed = {}
    for v in dash["templating"]["list"]:
        name, kind = v["name"], v["type"]
        current = v.get("current") or {}
        value = current.get("value")
        is_all = value in (None, [], "$__all", ["$__all"])
        if kind == "datasource":
            continue
        if kind == "custom":
            values[name] = str(value)
            continue
        if is_all and v.get("allValue"):
            values[name] = v["allValue"]
            continue
        query = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"query_result\((.*)\)", query, re.S)
        if not m:
            raise RuntimeError(f"variable {name}: cannot resolve {query!r} without an All value")
        data = prom.instant(interpolate(m.group(1), values), end)
        pattern = js_regex(v["regex"]) if v.get("regex") else None
        found = []
        for line in query_result_lines(data):
            if pattern:
                mm = pattern.search(line)
                if not mm:
                    continue
                line = mm.group(1) if mm.groups() else mm.group(0)
            if line not in found:
                found.append(line)
        if v.get("sort") in (1, 3):
            found.sort()
        listed[name] = found
        escaped = [regex_escape_for_promql(x) for x in found]
        values[name] = escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    return values, listed


# --- Panel data ---------------------------------------------------------------------------

def legend_of(fmt, labels):
    if not fmt:
        inner = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
        return labels.get("__name__", "") + "{" + inner + "}"
    return re.sub(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}",
                  lambda m: labels.get(m.group(1), ""), fmt).strip()


def number(text):
    v = float(text)
    return v if math.isfinite(v) else None


def panel_data(panel, prom, values, start, end, step):
    """[(legend, labels, [(t, v or None)])] of every target, and the queries as sent."""
    series, sent = [], []
    for t in panel["targets"]:
        expr = interpolate(t["expr"], values)
        sent.append(expr)
        if t.get("instant"):
            data = prom.instant(expr, end)
            for s in data["result"]:
                series.append((legend_of(t.get("legendFormat"), s["metric"]), s["metric"],
                               [(float(s["value"][0]), number(s["value"][1]))]))
            continue
        data = prom.range(expr, start, end, step)
        for s in data["result"]:
            points = [(float(ts), number(v)) for ts, v in s["values"]]
            series.append((legend_of(t.get("legendFormat"), s["metric"]), s["metric"], points))
    series = [s for s in series if any(v is not None for _, v in s[2])]
    return series, sent


# --- Formatting values as Grafana's units do ---------------------------------------------

def short(v):
    for factor, suffix in ((1e12, " T"), (1e9, " B"), (1e6, " Mil"), (1e3, " K")):
        if abs(v) >= factor:
            return f"{v / factor:.3g}{suffix}"
    return f"{v:.3g}"


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "percentunit":
        return f"{v * 100:.3g}%"
    if unit in ("bytes", "Bps"):
        size = abs(v)
        for i, suffix in enumerate(("B", "KiB", "MiB", "GiB", "TiB")):
            if size < 1024 or suffix == "TiB":
                text = f"{v / 1024 ** i:.3g} {suffix}"
                break
            size /= 1024
        return text + ("/s" if unit == "Bps" else "")
    if unit == "s":
        a = abs(v)
        for limit, div, suffix in ((1e-6, 1e-9, "ns"), (1e-3, 1e-6, "µs"), (1, 1e-3, "ms"),
                                   (60, 1, "s"), (3600, 60, "min"), (86400, 3600, "hour")):
            if a < limit:
                return f"{v / div:.3g} {suffix}"
        return f"{v / 86400:.3g} day"
    if unit == "ops":
        return short(v) + " ops/s"
    return short(v)


def colour_of(i):
    return PALETTE[i % len(PALETTE)]


def threshold_colour(v, steps):
    colour = NAMED["green"]
    for s in steps:
        if s.get("value") is None or (v is not None and v >= s["value"]):
            colour = NAMED.get(s["color"], s["color"])
    return colour


# --- SVG drawing --------------------------------------------------------------------------

def esc(text):
    return html.escape(str(text), quote=True)


def svg_text(x, y, text, size=11, fill=TEXT, anchor="start", weight="normal"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}">{esc(text)}</text>')


LEFT = 80  # room for the y axis labels


def time_axis(start, end, left, width, bottom):
    out = []
    for i in range(5):
        t = start + (end - start) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(svg_text(left + width * i / 4, bottom + 14,
                            time.strftime("%H:%M:%S", time.localtime(t)), 10, DIM, anchor))
    return "".join(out)


def no_data(w, h, reason):
    text = "No data" + (f": {reason}" if reason else "")
    return svg_text(w / 2, h / 2, text, 14, DIM, "middle")


def series_colours(panel, series):
    """Palette colours in order; a byRegexp colour override (the D-state highlight) wins."""
    colours, widths = [], []
    base = panel["fieldConfig"]["defaults"].get("custom", {}).get("lineWidth", 1)
    for i, (name, _, _) in enumerate(series):
        colour, width = colour_of(i), base
        for o in panel["fieldConfig"].get("overrides", []):
            if o["matcher"]["id"] == "byRegexp" and re.fullmatch(o["matcher"]["options"], name):
                for p in o["properties"]:
                    if p["id"] == "color":
                        colour = NAMED.get(p["value"]["fixedColor"], p["value"]["fixedColor"])
                    if p["id"] == "custom.lineWidth":
                        width = p["value"]
        colours.append(colour)
        widths.append(width)
    return colours, widths


def draw_timeseries(panel, series, w, h, start, end):
    """Lines (stacked areas when the panel stacks) over a time axis, and a legend table with
    the last, highest and mean values. Returns the SVG and the plot's rectangle."""
    d = panel["fieldConfig"]["defaults"]
    unit, custom = d.get("unit", "short"), d.get("custom", {})
    stacked = custom.get("stacking", {}).get("mode") == "normal"
    rows = min(len(series), max(1, int((h * 0.45) // 16)))
    legend_h = 18 + 16 * rows + (14 if rows < len(series) else 0)
    left, right, top, bottom = LEFT, w - 12, 6, h - legend_h - 20
    pw, ph = right - left, bottom - top
    curves = [dict(s[2]) for s in series]
    times = sorted({t for c in curves for t in c})
    if stacked:
        acc, stacked_curves = {t: 0.0 for t in times}, []
        for c in curves:
            layer = {}
            for t in times:
                if c.get(t) is not None:
                    acc[t] += c[t]
                layer[t] = acc[t]
            stacked_curves.append(layer)
        curves = stacked_curves
    ys = [v for c in curves for v in c.values() if v is not None]
    lo = d.get("min", min([0.0] + ys))
    hi = d.get("max", max(ys) * 1.1 if ys and max(ys) > 0 else 1.0)
    if hi <= lo:
        hi = lo + 1

    def X(t):
        return left + (t - start) / max(end - start, 1) * pw

    def Y(v):
        return bottom - (min(max(v, lo), hi) - lo) / (hi - lo) * ph

    out = []
    for i in range(5):  # horizontal grid and y labels
        v = lo + (hi - lo) * i / 4
        out.append(f'<line x1="{left}" x2="{right}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" '
                   f'stroke="{GRID}"/>')
        out.append(svg_text(left - 6, Y(v) + 4, fmt(v, unit), 10, DIM, "end"))
    out.append(time_axis(start, end, left, pw, bottom))
    colours, widths = series_colours(panel, series)
    fill = custom.get("fillOpacity", 10) / 100
    for i, c in enumerate(curves):
        runs, run = [], []
        for t in times:
            v = c.get(t)
            if v is None or (not stacked and dict(series[i][2]).get(t) is None):
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((X(t), Y(v)))
        if run:
            runs.append(run)
        for run in runs:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            if fill > 0:
                base = bottom if not stacked or i == 0 else None
                if base is not None:
                    area = f"{run[0][0]:.1f},{base} {pts} {run[-1][0]:.1f},{base}"
                    out.append(f'<polygon points="{area}" fill="{colours[i]}" '
                               f'fill-opacity="{fill}" stroke="none"/>')
            if len(run) == 1:
                out.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="2" '
                           f'fill="{colours[i]}"/>')
            out.append(f'<polyline points="{pts}" fill="none" stroke="{colours[i]}" '
                       f'stroke-width="{max(widths[i], 1.5)}" stroke-linejoin="round"/>')
    if custom.get("thresholdsStyle", {}).get("mode") == "line":
        for s in d.get("thresholds", {}).get("steps", []):
            if s.get("value") is not None and lo <= s["value"] <= hi:
                out.append(f'<line x1="{left}" x2="{right}" y1="{Y(s["value"]):.1f}" '
                           f'y2="{Y(s["value"]):.1f}" stroke="{NAMED.get(s["color"], s["color"])}" '
                           f'stroke-dasharray="6 4"/>')
    # Legend table: name, last, max, mean.
    ly = h - legend_h + 12
    cols = (w - 330, w - 230, w - 130)
    out.append(svg_text(left, ly, "Name", 11, DIM))
    for x, title in zip(cols, ("Last *", "Max", "Mean")):
        out.append(svg_text(x + 80, ly, title, 11, DIM, "end"))
    for i, (name, _, points) in enumerate(series[:rows]):
        vals = [v for _, v in points if v is not None]
        y = ly + 16 * (i + 1)
        out.append(f'<rect x="{left}" y="{y - 8}" width="14" height="4" fill="{colours[i]}"/>')
        out.append(svg_text(left + 20, y, name[:70], 11, TEXT))
        for x, v in zip(cols, (vals[-1], max(vals), sum(vals) / len(vals))):
            out.append(svg_text(x + 80, y, fmt(v, unit), 11, TEXT, "end"))
    if rows < len(series):
        out.append(svg_text(left + 20, ly + 16 * (rows + 1), f"… and {len(series) - rows} more",
                            11, DIM))
    return "".join(out), (left, top, pw, ph)


def draw_heatmap(panel, series, w, h, start, end):
    """Grafana's heatmap of pre-bucketed data (calculate: false): a row per bucket, the
    cumulative `le` counts de-accumulated, cells coloured by count (exponent 0.5)."""
    buckets = sorted(series, key=lambda s: float(s[1].get("le", "inf")))
    times = sorted({t for s in buckets for t, _ in s[2]})
    counts = []  # per bucket: {t: count}
    prev = {t: 0.0 for t in times}
    for _, _, points in buckets:
        cur = {t: (v or 0.0) for t, v in points}
        counts.append({t: max(cur.get(t, 0.0) - prev.get(t, 0.0), 0.0) for t in times})
        prev = {t: cur.get(t, prev.get(t, 0.0)) for t in times}
    top_count = max([c for row in counts for c in row.values()] + [0.0])
    left, right, top, bottom = LEFT, w - 12, 6, h - 22
    pw, ph = right - left, bottom - top
    out = []
    n = max(len(buckets), 1)
    rh = ph / n
    cw = pw / max(len(times), 1)
    scheme = ((255, 245, 235), (253, 141, 60), (127, 39, 4))  # Oranges: light to dark

    def colour(x):
        a, b = (scheme[0], scheme[1]) if x < 0.5 else (scheme[1], scheme[2])
        f = x * 2 if x < 0.5 else (x - 0.5) * 2
        return "#%02x%02x%02x" % tuple(int(a[i] + (b[i] - a[i]) * f) for i in range(3))

    for i, row in enumerate(counts):
        y = bottom - (i + 1) * rh
        for j, t in enumerate(times):
            c = row.get(t, 0.0)
            if c <= 1e-9 or top_count <= 0:
                continue
            x = 0.25 + 0.75 * (c / top_count) ** 0.5  # skip the palest, invisible on dark
            out.append(f'<rect x="{left + j * cw:.1f}" y="{y:.1f}" width="{max(cw - 1, 1):.1f}" '
                       f'height="{max(rh - 1, 1):.1f}" fill="{colour(1 - x * 0.9)}"/>')
    step = max(1, n // 8)
    for i in range(0, n, step):
        le = buckets[i][1].get("le", "")
        label = le if le == "+Inf" else fmt(float(le), "s")
        out.append(svg_text(left - 6, bottom - i * rh - rh / 2 + 4, label, 10, DIM, "end"))
    out.append(time_axis(start, end, left, pw, bottom))
    return "".join(out), (left, top, pw, ph)


def draw_stat(panel, series, w, h, start, end):
    """One box per series: its last value, coloured by the thresholds, over a sparkline."""
    d = panel["fieldConfig"]["defaults"]
    unit, steps = d.get("unit", "short"), d.get("thresholds", {}).get("steps", [])
    n = len(series)
    bw = w / n
    out = []
    for i, (name, _, points) in enumerate(series):
        vals = [(t, v) for t, v in points if v is not None]
        last = vals[-1][1]
        colour = threshold_colour(last, steps)
        x0 = i * bw
        lo, hi = min(v for _, v in vals), max(v for _, v in vals)
        if hi <= lo:
            hi = lo + 1
        pts = [(x0 + 4 + (t - start) / max(end - start, 1) * (bw - 8),
                h - 4 - (v - lo) / (hi - lo) * h * 0.4) for t, v in vals]
        if len(pts) > 1:
            area = (f"{pts[0][0]:.1f},{h - 4} " + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) +
                    f" {pts[-1][0]:.1f},{h - 4}")
            out.append(f'<polygon points="{area}" fill="{colour}" fill-opacity="0.25"/>')
            out.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" '
                       f'fill="none" stroke="{colour}" stroke-width="1.5"/>')
        size = max(min(bw / 6, h / 3.2), 12)
        out.append(svg_text(x0 + bw / 2, h * 0.22, name[:40], 11, TEXT, "middle"))
        out.append(svg_text(x0 + bw / 2, h * 0.22 + size + 4, fmt(last, unit), size, colour,
                            "middle", "bold"))
    return "".join(out), (0, 0, w, h)


def draw_table(panel, series, w, h, start, end):
    """Label columns and the value as a gradient gauge, highest first."""
    unit = panel["fieldConfig"]["defaults"].get("unit", "short")
    rows = sorted(series, key=lambda s: -(s[2][-1][1] or 0))
    labels = [k for k in dict.fromkeys(k for s in rows for k in s[1]) if k != "__name__"]
    col_w = min(200, (w * 0.5) / max(len(labels), 1))
    out = []
    for j, k in enumerate(labels + ["Value"]):
        out.append(svg_text(8 + j * col_w, 14, k, 11, DIM))
    top_v = max([s[2][-1][1] or 0 for s in rows] + [1e-12])
    gx = 8 + len(labels) * col_w
    gw = w - gx - 90
    fit = max(1, int((h - 24) // 20))
    for i, (_, lab, points) in enumerate(rows[:fit]):
        y = 24 + i * 20
        for j, k in enumerate(labels):
            out.append(svg_text(8 + j * col_w, y + 13, lab.get(k, "")[:30], 11, TEXT))
        v = points[-1][1] or 0
        frac = max(v / top_v, 0.02)
        out.append(f'<defs><linearGradient id="g{panel["id"]}_{i}"><stop offset="0" '
                   f'stop-color="{NAMED["green"]}"/><stop offset="1" stop-color="'
                   f'{NAMED["orange"] if frac < 0.8 else NAMED["red"]}"/></linearGradient></defs>')
        out.append(f'<rect x="{gx}" y="{y + 3}" width="{gw * frac:.1f}" height="13" '
                   f'fill="url(#g{panel["id"]}_{i})"/>')
        out.append(svg_text(w - 8, y + 13, fmt(v, unit), 11, TEXT, "end"))
    return "".join(out), (gx, 24, gw, min(len(rows), fit) * 20)


DRAW = {"timeseries": draw_timeseries, "heatmap": draw_heatmap, "stat": draw_stat,
        "table": draw_table}


# --- The page, the screenshot and the verdicts ---------------------------------------------

def panel_box(panel):
    g = panel["gridPos"]
    col = (WIDTH - MARGIN) / 24
    x = MARGIN + g["x"] * col
    y = MARGIN + g["y"] * (CELL_H + MARGIN)
    return x, y, g["w"] * col - MARGIN, g["h"] * (CELL_H + MARGIN) - MARGIN


def page(dash, drawn, values, listed):
    bottom = max(panel_box(p)[1] + panel_box(p)[3] for p, _, _ in drawn)
    head = 44
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
             f'body{{margin:0;background:{PAGE_BG};font-family:"DejaVu Sans",sans-serif;'
             f'color:{TEXT}}}.p{{position:absolute;background:{PANEL_BG};'
             f'border:1px solid {BORDER};border-radius:2px;overflow:hidden}}'
             f'.t{{position:absolute;left:8px;top:5px;font-size:13px;font-weight:500}}'
             f'svg{{position:absolute;left:0;font-family:"DejaVu Sans",sans-serif}}'
             f'.h{{position:absolute;left:{MARGIN}px;top:10px;font-size:17px}}'
             f'.v{{color:{DIM};font-size:12px}}</style></head><body>']
    shown = [f"{k}={', '.join(v) if v else '(none)'}" for k, v in listed.items()]
    if "top" in values:
        shown.insert(0, f"top={values['top']}")
    parts.append(f'<div class="h">{esc(dash["title"])} <span class="v">'
                 f'{esc("   ".join(shown))}</span></div>')
    for panel, svg, _ in drawn:
        x, y, w, h = panel_box(panel)
        parts.append(f'<div class="p" style="left:{x:.0f}px;top:{y + head:.0f}px;'
                     f'width:{w:.0f}px;height:{h:.0f}px"><div class="t">{esc(panel["title"])}'
                     f'</div><svg width="{w:.0f}" height="{h - 26:.0f}" style="top:26px">{svg}'
                     f'</svg></div>')
    parts.append("</body></html>")
    return "".join(parts), int(bottom + head + MARGIN)


def screenshot(chromium, html_path, png_path, height, timeout):
    with tempfile.TemporaryDirectory(prefix="kobs-chromium.") as profile:
        env = dict(os.environ, HOME=profile, XDG_CACHE_HOME=profile, XDG_CONFIG_HOME=profile)
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--hide-scrollbars",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}",
               f"--screenshot={png_path}", f"--window-size={WIDTH},{height}",
               "file://" + os.path.abspath(html_path)]
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, check=False)
        if not os.path.exists(png_path):
            raise RuntimeError(f"chromium wrote no screenshot (exit {r.returncode}): "
                               + r.stdout.decode(errors="replace")[-800:])


def drawn_pixels(image, box):
    """Coloured pixels in the box, and how many distinct colours they have."""
    x, y, w, h = (int(round(c)) for c in box)
    crop = image.crop((max(x, 0), max(y, 0), min(x + w, image.width), min(y + h, image.height)))
    count, colours = 0, set()
    for r, g, b in crop.getdata():
        if max(r, g, b) - min(r, g, b) >= CHROMA:
            count += 1
            colours.add((r >> 3, g >> 3, b >> 3))
    return count, len(colours)


def allowed_empty(sent_exprs, allow):
    for pattern, reason in allow:
        if sent_exprs and all(re.search(pattern, e) for e in sent_exprs):
            return reason
    return None


def render(path, prom, args, image_module):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    uid = dash["uid"]
    end = time.time()
    start = args.start
    step = max(1, int((end - start) // 300))
    values, listed = resolve_variables(dash, prom, start, end, args.rate_interval)
    for name, found in listed.items():
        top = values.get("top")
        if not found:
            bad(f"{uid}: the {name} variable lists nothing")
        elif top is not None and len(found) > float(top):
            bad(f"{uid}: the {name} variable lists {len(found)}, more than $top={top}")
        else:
            ok(f"{uid}: the {name} variable lists {len(found)} ({', '.join(found)})")
    drawn = []
    for panel in dash["panels"]:
        series, sent = panel_data(panel, prom, values, start, end, step)
        x, y, w, h = panel_box(panel)
        w, h = w, h - 26
        reason = None
        if series:
            svg, area = DRAW[panel["type"]](panel, series, w, h, start, end)
        else:
            reason = allowed_empty(sent, args.allow)
            svg, area = no_data(w, h, reason), (0, 0, w, h)
        drawn.append((panel, svg, (series, area, reason, sent)))
    text, height = page(dash, drawn, values, listed)
    html_path = os.path.join(args.out, uid + ".html")
    png_path = os.path.join(args.out, uid + ".png")
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(text)
    screenshot(args.chromium, html_path, png_path, height, args.timeout)
    image = image_module.open(png_path).convert("RGB")
    if image.size != (WIDTH, height):
        bad(f"{uid}: the screenshot is {image.size[0]}x{image.size[1]}, not {WIDTH}x{height}")
    for panel, _, (series, area, reason, sent) in drawn:
        where = f"{uid} panel {panel['title']!r}"
        if not series:
            if reason:
                ok(f"{where}: no data, as expected ({reason})")
            else:
                bad(f"{where}: no data; its queries were:" + "".join(f"\n    {e}" for e in sent))
            continue
        x, y, _, _ = panel_box(panel)
        # (A line at 0 or at the top is drawn on the plot's edge: 3 px of slack.)
        box = (x + area[0], y + 44 + 26 + area[1] - 3, area[2], area[3] + 6)
        pixels, colours = drawn_pixels(image, box)
        if pixels >= MIN_PIXELS:
            ok(f"{where}: {len(series)} series drawn ({pixels} coloured pixels, {colours} colours)")
        else:
            bad(f"{where}: {len(series)} series but the screenshot shows {pixels} coloured pixels "
                f"there (at least {MIN_PIXELS} wanted): nothing drawn")
    if args.copy_to:
        os.makedirs(args.copy_to, exist_ok=True)
        small = image.quantize(colors=128, method=image_module.Quantize.MEDIANCUT)
        small.save(os.path.join(args.copy_to, uid + ".png"), optimize=True)
    return png_path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--start", type=float, required=True, help="start of the range, epoch s")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rate-interval", default="10s")
    ap.add_argument("--allow-empty", action="append", default=[], metavar="REGEX=REASON")
    ap.add_argument("--copy-to")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per screenshot")
    ap.add_argument("dashboards", nargs="+")
    args = ap.parse_args()
    args.allow = [tuple(a.split("=", 1)) for a in args.allow_empty]
    try:
        from PIL import Image
    except ImportError:
        bad("python3-pil is not installed (contrib/install-deps.sh)")
        sys.exit(1)
    os.makedirs(args.out, exist_ok=True)
    prom = Prometheus(args.prometheus)
    for path in args.dashboards:
        try:
            png = render(path, prom, args, Image)
            ok(f"{os.path.basename(path)} drawn in Chromium: {png}")
        except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as e:
            bad(f"{os.path.basename(path)}: {e}")
    sys.exit(1 if verdicts.failures else 0)


if __name__ == "__main__":
    main()
