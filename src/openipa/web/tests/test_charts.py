"""The SVG chart module: pure functions from numbers to markup, checked without a browser or database."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from openipa.web.charts import Series, bar_chart, format_number, format_tick, line_chart, nice_scale

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = ["2026-01", "2026-02", "2026-03"]
TWO = [Series("SUN", (100, 120, 130)), Series("GOLD", (50, 40, 0))]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _bars(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]


def _text(root: ET.Element, tag: str) -> str:
    """The text of the first `tag` child (title, desc)."""
    element = root.find(f"{SVG}{tag}")
    assert element is not None, f"no <{tag}>"
    return element.text or ""


def _num(element: ET.Element, attribute: str) -> float:
    return float(element.get(attribute) or "nan")


def test_nice_scale_ends_on_a_round_number_at_or_above_the_maximum():
    assert nice_scale(130) == [0, 50, 100, 150]
    assert nice_scale(170) == [0, 50, 100, 150, 200]
    assert nice_scale(9) == [0, 2, 4, 6, 8, 10]
    assert nice_scale(22_233)[-1] == 25_000
    assert nice_scale(0) == [0, 1]
    assert nice_scale(1) == [0, 0.2, 0.4, 0.6, 0.8, 1]


def test_numbers_are_formatted_for_people():
    assert format_number(12345) == "12,345"
    assert format_number(2.5) == "2.5"
    assert format_number(3.0) == "3"
    assert format_tick(1500) == "1.5k"
    assert format_tick(25_000) == "25k"
    assert format_tick(2_000_000) == "2M"
    assert format_tick(0.5) == "0.5"


def test_a_stacked_bar_chart_is_valid_svg_with_title_description_and_legend():
    root = _parse(bar_chart(MONTHS, TWO, title="Member-months", x_label="Month", y_label="Members"))
    assert root.get("role") == "img"
    assert _text(root, "title") == "Member-months"
    assert "2026-01 to 2026-03" in _text(root, "desc")
    assert "SUN 350" in _text(root, "desc")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Month", "Members", "SUN", "GOLD", "2026-01", "0", "150"} <= set(texts)
    # One bar per non-zero value, each with a tooltip naming series, category and value.
    bars = _bars(root)
    assert len(bars) == 5
    assert _text(bars[0], "title") == "SUN, 2026-01: 100"


def test_stacked_segments_sit_on_each_other():
    root = _parse(bar_chart(MONTHS, TWO, title="t", x_label="x", y_label="y"))
    sun, gold = _bars(root)[0], _bars(root)[1]  # 2026-01: SUN at the bottom, GOLD on top
    assert _num(gold, "y") + _num(gold, "height") == pytest.approx(_num(sun, "y"), abs=0.11)
    assert sun.get("x") == gold.get("x")
    # Heights are proportional to the values (100 vs 50).
    assert _num(sun, "height") == pytest.approx(2 * _num(gold, "height"), rel=0.01)


def test_grouped_bars_stand_side_by_side_from_the_axis():
    root = _parse(bar_chart(MONTHS, TWO, title="t", x_label="x", y_label="y", stacked=False))
    sun, gold = _bars(root)[0], _bars(root)[1]
    assert _num(gold, "x") > _num(sun, "x")
    bottom = _num(sun, "y") + _num(sun, "height")
    assert _num(gold, "y") + _num(gold, "height") == pytest.approx(bottom, abs=0.11)


def test_a_line_chart_draws_one_line_and_a_marker_per_point():
    root = _parse(line_chart(MONTHS, TWO, title="Trend", x_label="Month", y_label="Members"))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert len((lines[0].get("points") or "").split()) == 3
    assert len(list(root.iter(f"{SVG}circle"))) == 6


def test_text_is_escaped():
    svg = bar_chart(["<m>"], [Series("A&B <script>", (1,))], title='T "1" <b>', x_label="x", y_label="y")
    assert "<script>" not in svg
    assert "<b>" not in svg
    root = _parse(svg)
    assert _text(root, "title") == 'T "1" <b>'
    assert "A&B <script>" in [t.text for t in root.iter(f"{SVG}text")]


def test_no_data_draws_a_no_data_chart():
    root = _parse(bar_chart([], [], title="Empty", x_label="x", y_label="y"))
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No data"]
    assert _text(root, "title") == "Empty"


def test_all_zero_values_still_draw_axes():
    root = _parse(bar_chart(MONTHS, [Series("Z", (0, 0, 0))], title="t", x_label="x", y_label="y"))
    assert _bars(root) == []
    assert "1" in [t.text for t in root.iter(f"{SVG}text")]


def test_mismatched_or_negative_values_are_refused():
    with pytest.raises(ValueError, match="has 2 values for 3 categories"):
        bar_chart(MONTHS, [Series("S", (1, 2))], title="t", x_label="x", y_label="y")
    with pytest.raises(ValueError, match="negative"):
        line_chart(MONTHS, [Series("S", (1, -2, 3))], title="t", x_label="x", y_label="y")


def test_crowded_category_labels_are_thinned():
    months = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]
    svg = bar_chart(months, [Series("S", tuple(range(24)))], title="t", x_label="x", y_label="y", width=400)
    shown = [m for m in months if f">{m}</text>" in svg]
    assert 2 <= len(shown) < len(months)
    assert shown[0] == "2025-01"


def test_ids_are_unique_per_chart_and_derived_from_the_title():
    svg = bar_chart(MONTHS, TWO, title="Member months, by payer!", x_label="x", y_label="y")
    assert 'aria-labelledby="member-months-by-payer-title member-months-by-payer-desc"' in svg
    assert re.search(r'id="member-months-by-payer-title"', svg)
