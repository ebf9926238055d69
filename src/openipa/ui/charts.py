"""Charts as inline SVG, drawn on the server: bars (stacked or grouped) and lines over categories.

Pure functions, no Django and no JavaScript: numbers in, SVG markup out. Every text that goes into the
markup is escaped here, so the result may be marked safe by the caller. Each chart carries a <title> and a
<desc> for screen readers, and a <title> on each bar or point that browsers show as a tooltip; pages put a
data table next to the chart as the non-visual fallback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Okabe-Ito, a palette that stays distinguishable for the common kinds of colour blindness.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)

_FONT = 'font-family="inherit" font-size="12"'
_CHAR_WIDTH = 7.0  # rough width of one character at 12px, to lay out legends and labels without a renderer


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per category (in the order of the categories)."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class _Frame:
    """The plotting area inside the SVG, after margins for axes, labels and legend."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height


def format_number(value: float) -> str:
    """12345 -> '12,345'; 2.5 -> '2.5'; whole floats print without decimals."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def format_tick(value: float) -> str:
    """Axis labels stay short: 1,500 -> '1.5k', 2,000,000 -> '2M'."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + suffix
    return format_number(value)


def nice_scale(max_value: float, ticks: int = 5) -> list[float]:
    """Tick values from 0 up to a round number >= max_value, about `ticks` steps of 1, 2, 2.5 or 5 x 10^k.

    A chart of all zeros still gets the scale 0..1.
    """
    if max_value <= 0:
        return [0.0, 1.0]
    raw_step = max_value / max(1, ticks)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    count = math.ceil(max_value / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def _check(categories: Sequence[str], series: Sequence[Series], *, negatives: bool = False) -> None:
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")
        if not negatives and any(v < 0 for v in s.values):
            raise ValueError(f"series {s.name!r} has a negative value; these charts start at zero")
        if any(not math.isfinite(v) for v in s.values):
            raise ValueError(f"series {s.name!r} has a value that is not a finite number")


def signed_scale(min_value: float, max_value: float, ticks: int = 5) -> list[float]:
    """Tick values covering ``min_value``..``max_value`` and zero, in round steps (1, 2, 2.5 or 5 x 10^k).

    With nothing below zero it is ``nice_scale(max_value)``, so charts of non-negative data look as before.
    """
    if min_value >= 0:
        return nice_scale(max_value, ticks)
    top = max(max_value, 0.0)
    span = top - min_value
    step_scale = nice_scale(span, ticks)
    step = step_scale[1] - step_scale[0]
    low = math.floor(min_value / step - 1e-9) * step
    high = math.ceil(top / step - 1e-9) * step
    count = round((high - low) / step)
    return [round(low + i * step, 10) for i in range(count + 1)]


def _legend(series: Sequence[Series], width: float, top: float, left: float) -> tuple[list[str], float]:
    """Legend items laid out in rows from (left, top); returns the markup and the height used."""
    parts: list[str] = []
    x, y = left, top
    row_height = 20.0
    for i, s in enumerate(series):
        item_width = 22 + len(s.name) * _CHAR_WIDTH + 18
        if x > left and x + item_width > width - 8:
            x, y = left, y + row_height
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<g class="legend-item"><rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2" '
            f'fill="{colour}"/><text x="{x + 18:.1f}" y="{y + 10:.1f}" {_FONT}>{escape(s.name)}</text></g>'
        )
        x += item_width
    return parts, (y - top + row_height) if series else 0.0


def _open(chart_id: str, width: int, height: float, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height:.0f}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _axes(
    frame: _Frame,
    ticks: list[float],
    categories: Sequence[str],
    x_label: str,
    y_label: str,
    slot: float,
) -> list[str]:
    """Grid lines, y tick labels, x category labels (thinned when crowded) and the two axis titles."""
    parts: list[str] = []
    low_value, top_value = ticks[0], ticks[-1]
    for tick in ticks:
        y = frame.bottom - frame.height * (tick - low_value) / (top_value - low_value)
        parts.append(
            f'<line class="grid" x1="{frame.left:.1f}" x2="{frame.left + frame.width:.1f}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee5" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{frame.left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end" {_FONT} fill="#44505e">'
            f"{escape(format_tick(tick))}</text>"
        )
    zero = frame.bottom - frame.height * (0 - low_value) / (top_value - low_value)
    parts.append(
        f'<line class="axis" x1="{frame.left:.1f}" x2="{frame.left + frame.width:.1f}" '
        f'y1="{zero:.1f}" y2="{zero:.1f}" stroke="#44505e" stroke-width="1"/>'
    )
    longest = max((len(c) for c in categories), default=1)
    every = max(1, math.ceil((longest * _CHAR_WIDTH + 8) / max(slot, 1)))
    for i, category in enumerate(categories):
        if i % every:
            continue
        x = frame.left + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{frame.bottom + 18:.1f}" text-anchor="middle" {_FONT} fill="#44505e">'
            f"{escape(category)}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{frame.left + frame.width / 2:.1f}" y="{frame.bottom + 40:.1f}" '
        f'text-anchor="middle" {_FONT} font-weight="600">{escape(x_label)}</text>'
    )
    mid = frame.top + frame.height / 2
    parts.append(
        f'<text class="axis-label" x="14" y="{mid:.1f}" transform="rotate(-90 14 {mid:.1f})" '
        f'text-anchor="middle" {_FONT} font-weight="600">{escape(y_label)}</text>'
    )
    return parts


def _layout(series: Sequence[Series], width: int, plot_height: int) -> tuple[_Frame, list[str], float]:
    """Frame of the plot, legend markup below it, and the total SVG height."""
    left, top, right = 64.0, 12.0, 16.0
    frame = _Frame(left=left, top=top, width=width - left - right, height=float(plot_height))
    legend, legend_height = _legend(series, width, frame.bottom + 56, left)
    return frame, legend, frame.bottom + 56 + legend_height + 4


def _empty(chart_id: str, width: int, title: str) -> str:
    parts = _open(chart_id, width, 80, title, "No data to show.")
    parts.append(
        f'<text x="{width / 2:.0f}" y="44" text-anchor="middle" {_FONT} fill="#44505e">No data</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    stacked: bool = True,
    description: str = "",
    chart_id: str = "",
    width: int = 760,
    plot_height: int = 260,
) -> str:
    """Vertical bars, one slot per category: series stacked on each other or side by side (grouped).

    Negative values draw below the zero line (stacked: negatives stack downward from zero, positives upward),
    and the axis then runs from a round number below the lowest value. Raise ValueError when a series has a
    different number of values than there are categories, or a value that is not finite.
    """
    _check(categories, series, negatives=True)
    chart_id = chart_id or _slug(title)
    if not categories or not series:
        return _empty(chart_id, width, title)
    if stacked:
        top_value = max(sum(max(s.values[i], 0) for s in series) for i in range(len(categories)))
        low_value = min(sum(min(s.values[i], 0) for s in series) for i in range(len(categories)))
    else:
        top_value = max(max(s.values) for s in series)
        low_value = min(min(s.values) for s in series)
    ticks = signed_scale(low_value, top_value)
    frame, legend, height = _layout(series, width, plot_height)
    slot = frame.width / len(categories)
    # Bars fill most of their slot, but a chart of only a few categories should not get slabs.
    bar_width = min(slot * 0.72, 56.0 * (1 if stacked else len(series)))
    scale = frame.height / (ticks[-1] - ticks[0])
    zero = frame.bottom + ticks[0] * scale
    parts = _open(chart_id, width, height, title, description or _describe(categories, series))
    parts += _axes(frame, ticks, categories, x_label, y_label, slot)
    for i, category in enumerate(categories):
        x0 = frame.left + slot * i + (slot - bar_width) / 2
        up, down = zero, zero
        for j, s in enumerate(series):
            value = s.values[i]
            colour = PALETTE[j % len(PALETTE)]
            h = abs(value) * scale
            if stacked:
                x, w = x0, bar_width
                if value >= 0:
                    y = up - h
                    up = y
                else:
                    y = down
                    down = y + h
            else:
                w = bar_width / len(series)
                x = x0 + j * w
                y = zero - h if value >= 0 else zero
            if value == 0:
                continue
            tip = f"{s.name}, {category}: {format_number(value)}"
            parts.append(
                f'<rect class="bar{" negative" if value < 0 else ""}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{max(w - 1, 1):.1f}" height="{h:.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
    parts += legend
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    description: str = "",
    chart_id: str = "",
    width: int = 760,
    plot_height: int = 260,
) -> str:
    """One line per series across the categories, with a marker (and tooltip) at each point."""
    _check(categories, series)
    chart_id = chart_id or _slug(title)
    if not categories or not series:
        return _empty(chart_id, width, title)
    ticks = nice_scale(max(max(s.values) for s in series))
    frame, legend, height = _layout(series, width, plot_height)
    slot = frame.width / len(categories)
    scale = frame.height / ticks[-1]
    parts = _open(chart_id, width, height, title, description or _describe(categories, series))
    parts += _axes(frame, ticks, categories, x_label, y_label, slot)
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        points = [(frame.left + slot * (i + 0.5), frame.bottom - v * scale) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for (x, y), category, value in zip(points, categories, s.values, strict=True):
            tip = f"{s.name}, {category}: {format_number(value)}"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(tip)}</title></circle>'
            )
    parts += legend
    parts.append("</svg>")
    return "".join(parts)


def _describe(categories: Sequence[str], series: Sequence[Series]) -> str:
    """A one-sentence summary for screen readers: the span and each series' total."""
    span = categories[0] if len(categories) == 1 else f"{categories[0]} to {categories[-1]}"
    totals = ", ".join(f"{s.name} {format_number(sum(s.values))}" for s in series)
    return f"{span}. Totals: {totals}."
