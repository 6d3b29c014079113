"""Server-side SVG charts: escaped markup built in Python, styled by app.css (no JS, no network)."""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 16, 56


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5):
        for exp in range(0, 10):
            top = step * 10 ** exp
            if top >= value:
                return float(top)
    return float(value)


def _frame(title: str, body: list[str], legend: list[tuple[int, str]], y_max: float,
           unit: str) -> Markup:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 20 * bool(legend)}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i in range(5):  # grid lines and y labels
        value = y_max * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(_fmt(value))}{escape(unit)}</text>")
    parts.extend(body)
    for n, (series, label) in enumerate(legend):
        x = PAD_LEFT + n * 200
        y = HEIGHT + 6
        parts.append(f'<rect class="s{series}" x="{x}" y="{y}" width="12" height="12"/>'
                     f'<text class="legend" x="{x + 16}" y="{y + 11}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def _label(text: str, x: float) -> str:
    short = text if len(text) <= 14 else text[:13] + "…"
    y = HEIGHT - PAD_BOTTOM + 14
    return (f'<text class="axis" x="{x:.1f}" y="{y}" text-anchor="end" '
            f'transform="rotate(-30 {x:.1f} {y})">{escape(short)}<title>{escape(text)}</title></text>')


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list]], *,
              y_max: float | None = None, unit: str = "") -> Markup:
    """Grouped vertical bars: one group per label, one bar per series (None = no bar)."""
    values = [v for _name, vals in series for v in vals if v is not None]
    top = y_max if y_max is not None else _nice_max(max(values, default=0))
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
                        f"{escape(name)}: {escape(_fmt(value))}{escape(unit)}</title></rect>")
        body.append(_label(label, PAD_LEFT + (i + 0.5) * slot))
    return _frame(title, body, [(s, name) for s, (name, _v) in enumerate(series)], top, unit)


def line_chart(title: str, labels: list[str], values: list[float], *, unit: str = "") -> Markup:
    """One line with a dot per point."""
    top = _nice_max(max(values, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(values), 1)
    points = [(PAD_LEFT + (i + 0.5) * step, PAD_TOP + plot_h - plot_h * v / top)
              for i, v in enumerate(values)]
    body = []
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="line s0" points="{path}"/>')
    every = max(1, len(labels) // 12)
    for i, ((x, y), label, value) in enumerate(zip(points, labels, values, strict=True)):
        body.append(f'<circle class="dot s0" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                    f"<title>{escape(label)}: {escape(_fmt(value))}</title></circle>")
        if i % every == 0:
            body.append(_label(label, x))
    return _frame(title, body, [], top, unit)
