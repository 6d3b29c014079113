"""Server-side SVG charts: escaped markup built in Python, styled by app.css (no JS, no network).

Numbers are written in the reader's format (Babel: "66,7" in Greek); counts get whole-number
ticks; the legend wraps onto as many rows as it needs and axis labels are shortened to the
room they have, so nothing is cut at the edge of the drawing."""
from __future__ import annotations

import math

from flask_babel import format_decimal
from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 12, 16, 72
#: Average advance of a character at the chart's font size (13px), for layout estimates.
CHAR_W = 7.2
LEGEND_ROW = 20
_SLANT = math.radians(30)
_MAX_LABEL = 18


def ticks(value: float, *, integer: bool, count: int = 4) -> list[float]:
    """Evenly spaced axis values from 0 past ``value``: about ``count`` steps of 1, 2, 2.5
    or 5 times a power of ten; whole numbers only when ``integer``."""
    value = max(float(value), 1.0 if integer else 1e-9)
    raw = value / count
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = [m * magnitude * k for k in (1, 10) for m in (1, 2, 2.5, 5)]
    if integer:
        steps = [s for s in steps if s >= 1 and float(s).is_integer()] or [1.0]
    step = next((s for s in steps if s * count >= value), steps[-1])
    n = math.ceil(value / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def number(value: float) -> str:
    """A value in the reader's number format, with at most one decimal."""
    return format_decimal(round(value, 1), format="#,##0.#")


def _legend(legend: list[tuple[int, str]]) -> tuple[list[str], int]:
    """The legend's markup, wrapped into rows that fit the width; and its height."""
    parts, x, row = [], PAD_LEFT, 0
    for series, label in legend:
        width = 16 + len(label) * CHAR_W + 18
        if x > PAD_LEFT and x + width > WIDTH - PAD_RIGHT:
            x, row = PAD_LEFT, row + 1
        y = HEIGHT + 6 + row * LEGEND_ROW
        parts.append(f'<rect class="s{series}" x="{x:.0f}" y="{y}" width="12" height="12"/>'
                     f'<text class="legend" x="{x + 16:.0f}" y="{y + 11}">{escape(label)}</text>')
        x += width
    return parts, (row + 1) * LEGEND_ROW + 4 if legend else 0


def _frame(title: str, body: list[str], legend: list[tuple[int, str]], scale: list[float],
           unit: str) -> Markup:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    legend_parts, legend_h = _legend(legend)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + legend_h}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    top = scale[-1]
    for value in scale:  # grid lines and y labels
        y = PAD_TOP + plot_h - plot_h * value / top
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(number(value))}{escape(unit)}</text>")
    parts.extend(body)
    parts.extend(legend_parts)
    parts.append("</svg>")
    return Markup("".join(parts))


def _label(text: str, x: float) -> str:
    """An x-axis label slanted up to the left of ``x``, shortened to the room it has."""
    room = min(_MAX_LABEL, int((x - 2) / (CHAR_W * math.cos(_SLANT))),
               int((PAD_BOTTOM - 14) / (CHAR_W * math.sin(_SLANT))))
    short = text if len(text) <= room else text[:max(room - 1, 1)] + "…"
    y = HEIGHT - PAD_BOTTOM + 14
    return (f'<text class="axis" x="{x:.1f}" y="{y}" text-anchor="end" '
            f'transform="rotate(-30 {x:.1f} {y})">{escape(short)}<title>{escape(text)}</title></text>')


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list]], *,
              y_max: float | None = None, unit: str = "", integer: bool = False) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series (None = no bar)."""
    values = [v for _name, vals in series for v in vals if v is not None]
    scale = ticks(y_max if y_max is not None else max(values, default=0), integer=integer)
    top = scale[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(min(slot * 0.8 / max(len(series), 1), 40), 1)
    body = []
    for i, label in enumerate(labels):
        x0 = PAD_LEFT + i * slot + (slot - bar_w * len(series)) / 2
        for s, (name, vals) in enumerate(series):
            value = vals[i]
            if value is None:
                continue
            h = plot_h * min(value, top) / top
            x = x0 + s * bar_w
            body.append(f'<rect class="bar s{s}" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
                        f'width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(label)} · '
                        f"{escape(name)}: {escape(number(value))}{escape(unit)}</title></rect>")
        body.append(_label(label, PAD_LEFT + (i + 0.5) * slot))
    return _frame(title, body, [(s, name) for s, (name, _v) in enumerate(series)], scale, unit)


def line_chart(title: str, labels: list[str], values: list[float], *, unit: str = "",
               integer: bool = False) -> Markup:
    """One line with a dot per point."""
    scale = ticks(max(values, default=0), integer=integer)
    top = scale[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(values), 1)
    points = [(PAD_LEFT + (i + 0.5) * step, PAD_TOP + plot_h - plot_h * v / top)
              for i, v in enumerate(values)]
    body = []
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="line s0" points="{path}"/>')
    every = max(1, math.ceil(len(labels) / 12))
    for i, ((x, y), label, value) in enumerate(zip(points, labels, values, strict=True)):
        body.append(f'<circle class="dot s0" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                    f"<title>{escape(label)}: {escape(number(value))}</title></circle>")
        if i % every == 0:
            body.append(_label(label, x))
    return _frame(title, body, [], scale, unit)
