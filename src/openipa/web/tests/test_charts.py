"""The SVG chart module: pure functions from numbers to markup, checked without a browser or database."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from openipa.ui.charts import (
    Series,
    bar_chart,
    format_number,
    format_tick,
    line_chart,
    nice_scale,
    signed_scale,
)

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


def _all_bars(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if (e.get("class") or "").startswith("bar")]


def _axis_y(root: ET.Element) -> float:
    (axis,) = [e for e in root.iter(f"{SVG}line") if e.get("class") == "axis"]
    assert axis.get("y1") == axis.get("y2")
    return float(axis.get("y1") or 0)


def test_signed_scale_covers_negatives_and_zero_in_round_steps():
    assert signed_scale(0, 130) == nice_scale(130)
    assert signed_scale(-30, 100) == [-50, 0, 50, 100]
    assert signed_scale(-120, 0) == [-125, -100, -75, -50, -25, 0]
    assert signed_scale(-7, -3)[-1] == 0


def test_non_negative_bars_keep_the_axis_at_the_bottom():
    root = _parse(bar_chart(MONTHS, TWO, title="t", x_label="x", y_label="y"))
    assert _axis_y(root) == 272.0  # top margin 12 + plot height 260
    assert all(e.get("class") == "bar" for e in _all_bars(root))


def test_negative_grouped_bars_hang_below_the_zero_line():
    root = _parse(bar_chart(["a", "b"], [Series("S", (100, -50))], title="t", x_label="x", y_label="y",
                            stacked=False))  # fmt: skip
    zero = _axis_y(root)
    up, down = _all_bars(root)
    assert up.get("class") == "bar"
    assert down.get("class") == "bar negative"
    assert float(up.get("y") or 0) + float(up.get("height") or 0) == pytest.approx(zero, abs=0.1)
    assert float(down.get("y") or 0) == pytest.approx(zero, abs=0.1)
    # the scale runs -50..100 in steps of 50: 100 is twice as tall as -50
    assert float(up.get("height") or 0) == pytest.approx(2 * float(down.get("height") or 0), abs=0.2)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "-50" in texts
    assert "100" in texts


def test_stacked_bars_stack_positives_up_and_negatives_down():
    series = [Series("gain", (30, 10)), Series("loss", (-20, -40)), Series("more", (10, 0))]
    root = _parse(bar_chart(["a", "b"], series, title="t", x_label="x", y_label="y"))
    zero = _axis_y(root)
    bars = _all_bars(root)
    a_bars = [b for b in bars if ", a:" in (b.findtext(f"{SVG}title") or "")]
    tops = sorted(float(b.get("y") or 0) for b in a_bars if b.get("class") == "bar")
    negative = [b for b in a_bars if b.get("class") == "bar negative"]
    assert len(negative) == 1
    assert float(negative[0].get("y") or 0) == pytest.approx(zero, abs=0.1)
    assert tops[0] < tops[1] < zero  # "more" sits on top of "gain"
    assert "loss, b: -40" in [b.findtext(f"{SVG}title") for b in bars]


def test_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="finite"):
        bar_chart(MONTHS, [Series("S", (1, float("nan"), 3))], title="t", x_label="x", y_label="y")
