"""A member's timeline as inline SVG: one lane per product (eligibility) and per PCP, bars for spans, a
marker per roster change at its effective date, and a line for today.

A pure function of the timeline: no Django, no JavaScript. Every text is escaped here, so the result may
be marked safe. The page puts the same spans and changes in tables next to it (the non-visual fallback).
"""

from __future__ import annotations

import datetime as dt
from html import escape

from openipa.membership.selectors import MemberTimeline, TimelineSpan
from openipa.ui.charts import PALETTE

WIDTH = 760
LABEL_WIDTH = 250
RIGHT = 16
LANE = 24
BAR = 14
_FONT = 'font-family="inherit" font-size="12"'
_COLOURS = {"eligibility": PALETTE[0], "pcp": PALETTE[2], "change": PALETTE[5], "outside": PALETTE[7]}
_KIND_HEADINGS = {"eligibility": "Eligibility", "pcp": "PCP"}


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounds(timeline: MemberTimeline) -> tuple[dt.date, dt.date]:
    days = [timeline.today]
    for s in timeline.spans:
        days.append(s.valid_from)
        if s.valid_to is not None:
            days.append(s.valid_to)
    days += [c.effective for c in timeline.changes]
    start = _month_start(min(days))
    end = _next_month(max(days))
    while (end - start).days < 365:  # at least a year, so a short history is not stretched into slabs
        start = _month_start(start - dt.timedelta(days=1))
        if (end - start).days < 365:
            end = _next_month(end)
    return start, end


def _ticks(start: dt.date, end: dt.date) -> list[dt.date]:
    """Month starts between the bounds, thinned to at most about a dozen labels."""
    months = []
    day = start
    while day <= end:
        months.append(day)
        day = _next_month(day)
    step = next(s for s in (1, 2, 3, 6, 12, 24, 60) if len(months) / s <= 12)
    return [m for m in months if (m.year * 12 + m.month - 1) % step == 0]


def _day(day: dt.date) -> str:
    """Jan 5, 2026: dates in the drawing are written out, the tables beside it carry them as YYYY-MM-DD."""
    return f"{day:%b} {day.day}, {day.year}"


def _span_title(span: TimelineSpan) -> str:
    until = _day(span.valid_to) if span.valid_to else "open-ended"
    source = f", from {span.file_name}" if span.file_name else ", entered by hand"
    return f"{span.lane}: {_day(span.valid_from)} to {until}{source}"


def timeline_svg(timeline: MemberTimeline, *, chart_id: str = "member-timeline") -> str:
    """The timeline's SVG markup, or "" when there is nothing to draw."""
    if not timeline.spans and not timeline.changes:
        return ""
    start, end = _bounds(timeline)
    left, right = float(LABEL_WIDTH), float(WIDTH - RIGHT)
    total = max(1, (end - start).days)

    def x(day: dt.date) -> float:
        return left + (right - left) * (day - start).days / total

    lanes: list[tuple[str, str]] = []  # (kind, lane) in order: eligibility lanes, then PCP lanes
    for kind in ("eligibility", "pcp"):
        for s in timeline.spans:
            if s.kind == kind and (kind, s.lane) not in lanes:
                lanes.append((kind, s.lane))
    rows: list[tuple[str, str]] = []  # ("heading" | kind | "change", text)
    for kind in ("eligibility", "pcp"):
        kind_lanes = [lane for k, lane in lanes if k == kind]
        if kind_lanes:
            rows.append(("heading", _KIND_HEADINGS[kind]))
            rows += [(kind, lane) for lane in kind_lanes]
    if timeline.changes:
        rows.append(("heading", "Roster changes"))
        rows.append(("change", "Effective dates"))
    top = 8.0
    axis_y = top + LANE * len(rows) + 4
    height = axis_y + 28
    n_spans, n_changes = len(timeline.spans), len(timeline.changes)
    description = (
        f"{n_spans} span{'s' if n_spans != 1 else ''} and {n_changes} roster change"
        f"{'s' if n_changes != 1 else ''}, {start:%Y-%m} to {end - dt.timedelta(days=1):%Y-%m}."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">Eligibility and PCP timeline</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for tick in _ticks(start, end):
        tx = x(tick)
        parts.append(
            f'<line class="grid" x1="{tx:.1f}" x2="{tx:.1f}" y1="{top:.1f}" y2="{axis_y:.1f}" '
            f'stroke="#e3e8ee" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{tx:.1f}" y="{axis_y + 16:.1f}" text-anchor="middle" {_FONT} fill="#44505e">'
            f"{tick.strftime('%Y-%m')}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{left:.1f}" x2="{right:.1f}" y1="{axis_y:.1f}" y2="{axis_y:.1f}" '
        f'stroke="#44505e" stroke-width="1"/>'
    )
    for i, (kind, text) in enumerate(rows):
        y = top + LANE * i
        mid = y + LANE / 2
        if kind == "heading":
            parts.append(f'<text x="4" y="{mid + 4:.1f}" {_FONT} font-weight="600">{escape(text)}</text>')
            continue
        parts.append(
            f'<text x="16" y="{mid + 4:.1f}" {_FONT} fill="#3d4956"><title>{escape(text)}</title>'
            f"{escape(_short(text))}</text>"
        )
        if kind == "change":
            for c in timeline.changes:
                cx = x(c.effective)
                colour = _COLOURS["outside" if c.outside_window else "change"]
                retro = f", {c.retro_months} months retro" if c.retro_months else ""
                outside = ", outside the retro window" if c.outside_window else ""
                tip = f"{c.kind_label} from {_day(c.effective)} by {c.file_name}{retro}{outside}"
                parts.append(
                    f'<path class="change" d="M{cx:.1f},{mid - 6:.1f} l6,6 l-6,6 l-6,-6 z" fill="{colour}">'
                    f"<title>{escape(tip)}</title></path>"
                )
            continue
        for s in timeline.spans:
            if s.kind != kind or s.lane != text:
                continue
            x0 = x(s.valid_from)
            x1 = x(s.valid_to + dt.timedelta(days=1)) if s.valid_to else right
            colour = _COLOURS[kind]
            opacity = "1" if s.valid_to else "0.8"
            parts.append(
                f'<rect class="span {kind}" x="{x0:.1f}" y="{mid - BAR / 2:.1f}" '
                f'width="{max(x1 - x0, 2):.1f}" height="{BAR}" rx="3" fill="{colour}" fill-opacity="{opacity}">'
                f"<title>{escape(_span_title(s))}</title></rect>"
            )
            if s.valid_to is None:  # open-ended: an arrow past the right edge of the bar
                parts.append(
                    f'<path d="M{right - 1:.1f},{mid - 6:.1f} l7,6 l-7,6 z" fill="{colour}">'
                    "<title>open-ended</title></path>"
                )
    if start <= timeline.today <= end:
        tx = x(timeline.today)
        parts.append(
            f'<line class="today" x1="{tx:.1f}" x2="{tx:.1f}" y1="{top:.1f}" y2="{axis_y:.1f}" '
            f'stroke="#44505e" stroke-width="1.5" stroke-dasharray="4 3"><title>Today, '
            f"{_day(timeline.today)}</title></line>"
        )
    parts.append("</svg>")
    return "".join(parts)
