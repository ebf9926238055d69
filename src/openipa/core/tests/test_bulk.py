"""insert_rows: plain tuples into a table, with dates, datetimes, JSON and foreign keys converted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from django.utils import timezone

from openipa.core.bulk import insert_rows
from openipa.membership.models import RosterChange, RosterImport


@pytest.mark.django_db
def test_insert_rows_round_trip(small_ipa: Any) -> None:
    imp = RosterImport.objects.create(
        payer=small_ipa.payer, file_name="f", sha256="0" * 64, format="x12", status="applied", imported_by="t"
    )
    fields = ("roster_import_id", "member_id", "kind", "effective", "retro_months", "outside_window", "segment",
              "detail")  # fmt: skip
    rows = [
        (
            imp.pk,
            small_ipa.member_a.pk,
            "add",
            dt.date(2026, 2, 1),
            3,
            False,
            8,
            {"coverage": [[1, "2026-02-01", None]]},
        ),
        (imp.pk, small_ipa.member_b.pk, "term", dt.date(2026, 5, 1), 0, True, 20, {}),
    ]
    assert insert_rows(RosterChange, fields, rows) == 2
    got = list(
        RosterChange.objects.order_by("segment").values_list(
            "member_id", "kind", "effective", "outside_window", "detail"
        )
    )
    assert got == [
        (small_ipa.member_a.pk, "add", dt.date(2026, 2, 1), False, {"coverage": [[1, "2026-02-01", None]]}),
        (small_ipa.member_b.pk, "term", dt.date(2026, 5, 1), True, {}),
    ]
    assert insert_rows(RosterChange, fields, []) == 0


@pytest.mark.django_db
def test_insert_rows_datetimes(small_ipa: Any) -> None:
    from openipa.membership.models import Member

    now = timezone.now().replace(microsecond=0)
    fields = ("payer_id", "payer_member_id", "mbi", "first_name", "last_name", "date_of_birth", "sex",
              "address_line1", "city", "state", "zip_code", "phone", "language", "created_at", "updated_at")  # fmt: skip
    insert_rows(Member, fields, [(small_ipa.payer.pk, "Z1", "", "A", "B", dt.date(1960, 1, 1), "F", "", "", "", "",
                                  "", "English", now, now)])  # fmt: skip
    member = Member.objects.get(payer_member_id="Z1")
    assert member.created_at == now
    assert member.date_of_birth == dt.date(1960, 1, 1)


@pytest.mark.django_db
def test_update_rows_by_primary_key(small_ipa: Any) -> None:
    from openipa.core.bulk import update_rows
    from openipa.membership.models import EligibilitySpan

    a, b = EligibilitySpan.objects.order_by("pk")
    n = update_rows(
        EligibilitySpan,
        ("valid_from", "valid_to"),
        [(a.pk, dt.date(2026, 2, 1), dt.date(2026, 3, 31)), (b.pk, dt.date(2026, 1, 15), None)],
    )
    assert n == 2
    assert list(EligibilitySpan.objects.order_by("pk").values_list("valid_from", "valid_to")) == [
        (dt.date(2026, 2, 1), dt.date(2026, 3, 31)),
        (dt.date(2026, 1, 15), None),
    ]
    assert update_rows(EligibilitySpan, ("valid_to",), []) == 0


@pytest.mark.django_db
def test_insert_rows_returning_pks_in_row_order(small_ipa: Any) -> None:
    from openipa.core.bulk import insert_rows_returning_pks
    from openipa.membership.models import Member

    now = timezone.now()
    born = dt.date(1970, 1, 1)
    fields = ("payer_id", "payer_member_id", "first_name", "last_name", "date_of_birth", "mbi", "sex",
              "address_line1", "city", "state", "zip_code", "phone", "language", "created_at", "updated_at")  # fmt: skip

    def rows(keys: list[str]) -> list[tuple[Any, ...]]:
        return [
            (small_ipa.payer.pk, k, k, "Last", born, "", "F", "", "", "", "", "", "", now, now) for k in keys
        ]

    first = insert_rows_returning_pks(Member, fields, rows(["P3", "P1", "P2"]))
    assert [Member.objects.get(pk=pk).payer_member_id for pk in first] == ["P3", "P1", "P2"]
    # the table's own numbering goes on after the rows: an ORM insert gets a fresh key, and so does a second batch
    orm = Member.objects.create(
        payer=small_ipa.payer, payer_member_id="P4", first_name="A", last_name="B", date_of_birth=born
    )
    assert orm.pk not in first
    second = insert_rows_returning_pks(Member, fields, rows(["P5"]))
    assert second[0] not in (*first, orm.pk)
    assert Member.objects.get(pk=second[0]).payer_member_id == "P5"
    assert insert_rows_returning_pks(Member, fields, []) == []


@pytest.mark.django_db
def test_update_rows_in_bulk_with_json_dates_and_nulls(small_ipa: Any, monkeypatch: Any) -> None:
    """Past the threshold PostgreSQL updates through a temporary table: the same rows come out either way."""
    from openipa.capitation.models import RemittanceImport
    from openipa.core import bulk

    made = [
        RemittanceImport.objects.create(payer=small_ipa.payer, file_name=f"f{n}", sha256=str(n) * 64, format="csv",
                                        status="applied", imported_by="test")
        for n in range(5)
    ]  # fmt: skip
    monkeypatch.setattr(bulk, "_UPDATE_BY_COPY", 2)
    rows = [
        (r.pk, [{"n": i, "none": None}], dt.date(2026, 5, i + 1) if i % 2 else None)
        for i, r in enumerate(made)
    ]
    assert bulk.update_rows(RemittanceImport, ("warnings", "payment_date"), rows) == 5
    got = list(RemittanceImport.objects.order_by("pk").values_list("warnings", "payment_date"))
    assert got == [([{"n": i, "none": None}], dt.date(2026, 5, i + 1) if i % 2 else None) for i in range(5)]


@pytest.mark.django_db
def test_insert_frame_types_nulls_and_constants(small_ipa: Any, monkeypatch: Any) -> None:
    """A frame's integers, dates, booleans and text (empty apart from null, commas, quotes, line breaks) arrive
    as they were, with the constant columns on every row; PostgreSQL's CSV COPY goes chunk by chunk."""
    import polars as pl

    from openipa.capitation.models import ReceivedLine, RemittanceImport
    from openipa.core import bulk

    remittance = RemittanceImport.objects.create(payer=small_ipa.payer, file_name="f", sha256="0" * 64,
                                                 format="csv", status="applied", imported_by="t")  # fmt: skip
    monkeypatch.setattr(bulk, "_COPY_CHUNK", 2)
    a = small_ipa.member_a.pk
    frame = pl.DataFrame(
        {"member_id": [a, None, a], "payer_member_id": ["A1", 'te,"rm"\nx', ""],
         "month": [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 1)], "kind": ["capitation"] * 3,
         "amount_cents": [30000, -125, 0], "reason_code": ["", "RP", ""], "reference": ["CAP", "", "NULL"],
         "segment": [8, 9, 10]},
    )  # fmt: skip
    constants = {"remittance_id": remittance.pk, "payer_id": small_ipa.payer.pk}
    assert bulk.insert_frame(ReceivedLine, frame, constants=constants) == 3
    got = list(
        ReceivedLine.objects.filter(remittance=remittance, payer=small_ipa.payer)
        .order_by("segment")
        .values_list(
            "member_id", "payer_member_id", "month", "amount_cents", "reason_code", "reference", "segment"
        )
    )
    assert got == [
        (a, "A1", dt.date(2026, 2, 1), 30000, "", "CAP", 8),
        (None, 'te,"rm"\nx', dt.date(2026, 3, 1), -125, "RP", "", 9),
        (a, "", dt.date(2026, 3, 1), 0, "", "NULL", 10),
    ]
    assert bulk.insert_frame(ReceivedLine, frame.clear(), constants=constants) == 0
    imp = RosterImport.objects.create(
        payer=small_ipa.payer, file_name="f", sha256="0" * 64, format="x12", status="applied", imported_by="t"
    )
    flags = pl.DataFrame({"member_id": [a, a], "kind": ["add", "term"], "effective": [dt.date(2026, 2, 1)] * 2,
                          "outside_window": [True, False], "segment": [1, 2], "detail": ["{}", "{}"]})  # fmt: skip
    bulk.insert_frame(RosterChange, flags, constants={"roster_import_id": imp.pk, "retro_months": 0})
    assert list(imp.changes.order_by("segment").values_list("outside_window", flat=True)) == [True, False]
    with pytest.raises(TypeError, match="share"):
        bulk.insert_frame(RosterChange, pl.DataFrame({"share": [1.5]}))


@pytest.mark.django_db
@pytest.mark.parametrize("few", [5_000, 0])
def test_check_references_refuses_a_dangling_key(small_ipa: Any, monkeypatch: Any, few: int) -> None:
    """A line table without database constraints checks its references as a set before writing; a dangling key
    is named, by value lookup (few keys) or against the target's key range (many)."""
    import polars as pl
    from django.db import IntegrityError

    from openipa.capitation.models import ReceivedLine
    from openipa.core import bulk

    monkeypatch.setattr(bulk, "_FEW", few)
    a, b = small_ipa.member_a.pk, small_ipa.member_b.pk
    bulk.check_references(ReceivedLine, pl.DataFrame({"member_id": [a, None, b, a]}), ("member",))
    bulk.check_references(ReceivedLine, pl.DataFrame({"member_id": [None]}, schema={"member_id": pl.Int64}),
                          ("member",))  # fmt: skip
    for dangling in (999_999, min(a, b) - 1 if min(a, b) > 1 else 999_998):
        frame = pl.DataFrame({"member_id": [a, dangling, b], "payer_id": [small_ipa.payer.pk] * 3})
        with pytest.raises(IntegrityError, match=rf"member: {dangling} names no membership\.Member"):
            bulk.check_references(ReceivedLine, frame, ("payer", "member"))


def test_remembered_conversions_convert_each_value_once() -> None:
    from decimal import Decimal

    from openipa.core import bulk

    calls: list[Any] = []

    def convert(value: Any) -> str:
        calls.append(value)
        return f"<{value}>"

    remembered = bulk._remembered(convert)
    values = [Decimal("1.000"), Decimal(2), Decimal("1.000"), Decimal(1), Decimal(2)]
    assert [remembered(v) for v in values] == ["<1.000>", "<2>", "<1.000>", "<1.000>", "<2>"]
    assert calls == [Decimal("1.000"), Decimal(2)]


@pytest.mark.django_db
def test_update_frame_writes_columns_json_text_and_constants(small_ipa: Any) -> None:
    """update_frame: text (empty stays empty), integers, dates and nulls from the frame, a JSON field from its
    JSON text, and constants (a timestamp, an id) converted once; rows not in the frame keep their values."""
    from openipa.capitation.models import RemittanceImport
    from openipa.core import bulk

    made = [
        RemittanceImport.objects.create(payer=small_ipa.payer, file_name=f"f{n}", sha256=str(n) * 64, format="csv",
                                        status="applied", imported_by="test", trace_number="old")
        for n in range(4)
    ]  # fmt: skip
    when = dt.datetime(2026, 11, 2, 13, 45, 7, 123456, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "id": [made[0].pk, made[2].pk, made[3].pk],
            "trace_number": ["T1", "", "it's"],
            "payment_date": [dt.date(2026, 5, 1), None, dt.date(2026, 5, 3)],
            "payment_cents": [12345, -7, 0],
            "warnings": ['[{"n": 1, "none": null}]', "[]", '["a,\\"b\\""]'],
        },
        schema_overrides={"payment_date": pl.Date},
    )
    constants = {"imported_by_id": 42, "created_at": when}
    assert bulk.update_frame(RemittanceImport, frame, key="id", constants=constants) == 3
    got = list(
        RemittanceImport.objects.order_by("pk").values_list(
            "trace_number", "payment_date", "payment_cents", "warnings", "imported_by_id", "created_at"
        )
    )
    assert got[0] == ("T1", dt.date(2026, 5, 1), 12345, [{"n": 1, "none": None}], 42, when)
    assert got[1][:5] == ("old", None, 0, [], None)
    assert got[2] == ("", None, -7, [], 42, when)
    assert got[3] == ("it's", dt.date(2026, 5, 3), 0, ['a,"b"'], 42, when)
    assert bulk.update_frame(RemittanceImport, frame.clear(), key="id") == 0
    with pytest.raises(TypeError):
        bulk.update_frame(RemittanceImport, frame.with_columns(pl.lit(1.5).alias("payment_cents")), key="id")


@pytest.mark.django_db
def test_update_frame_where_leaves_other_rows_alone(small_ipa: Any) -> None:
    """update_frame's ``where``: only the rows whose field still holds the value are written."""
    from openipa.capitation.models import RemittanceImport
    from openipa.core import bulk

    made = [
        RemittanceImport.objects.create(payer=small_ipa.payer, file_name=f"f{n}", sha256=str(n) * 64, format="csv",
                                        status=status, imported_by="test")
        for n, status in enumerate(("applied", "rejected", "applied"))
    ]  # fmt: skip
    frame = pl.DataFrame({"id": [r.pk for r in made], "trace_number": ["A", "B", "C"]})
    assert bulk.update_frame(RemittanceImport, frame, key="id", where={"status": "applied"}) == 3
    assert list(RemittanceImport.objects.order_by("pk").values_list("trace_number", flat=True)) == [
        "A",
        "",
        "C",
    ]
