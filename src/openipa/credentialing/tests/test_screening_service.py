"""The screening service and the command: runs, alerts, malformed rows, refused files, reviews and their audit,
the exclusions claims will read, the monthly sweep."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.credentialing import selectors
from openipa.credentialing.models import (
    Exclusion,
    ExclusionListImport,
    ScreeningHit,
    ScreeningPolicy,
    ScreeningRun,
)
from openipa.credentialing.services import result_json, review_hit, screen
from openipa.credentialing.tests.conftest import DATA

pytestmark = pytest.mark.django_db


def _screen(ipa: Any, leie: str = "leie_small.csv", sam: str | None = None, **kwargs: Any) -> ScreeningRun:
    return screen(
        actor=ipa.users["cred"], leie_path=DATA / leie, sam_path=DATA / sam if sam else None, **kwargs
    )


def test_a_screening_raises_one_alert_per_match(screening_ipa: Any) -> None:
    run = _screen(screening_ipa, sam="sam_small.csv")
    ipa = screening_ipa
    hits = {(h.provider_id, h.source, h.match_kind): float(h.score) for h in ScreeningHit.objects.all()}
    assert hits == {
        (ipa.pcp_a.pk, "leie", "name_dob"): 100.0,
        (ipa.pcp_b.pk, "leie", "npi"): 100.0,
        (ipa.smith.pk, "leie", "name_dob"): 94.7,
        (ipa.specialist.pk, "sam", "npi"): 100.0,
        (ipa.garcia.pk, "sam", "name"): 100.0,
    }
    assert (run.providers_screened, run.matches, run.new_alerts, run.rejected_rows) == (6, 5, 5, 0)
    assert run.lists == ["leie", "sam"]
    assert run.threshold == ScreeningPolicy.objects.get().threshold
    assert all(h.status == "open" for h in ScreeningHit.objects.all())
    alder = ScreeningHit.objects.get(provider=ipa.pcp_a)
    assert alder.matched["LASTNAME"] == "ALDER"
    assert alder.matched["DOB"] == "19700102"
    assert alder.exclusion_date == dt.date(2023, 3, 1)
    assert alder.row_number == 3
    leie = ExclusionListImport.objects.get(source="leie")
    assert (leie.rows, leie.entries, leie.not_in_force, leie.rejected_count) == (7, 6, 1, 0)
    assert leie.stored_path.startswith("imports/exclusions/")
    assert len(leie.sha256) == 64
    event = AuditEvent.objects.get(action="credentialing.screen")
    assert event.actor_username == "cred"
    assert event.changes["new_alerts"] == [None, 5]


def test_a_second_screening_finds_the_same_matches_but_raises_no_new_alert(screening_ipa: Any) -> None:
    first = _screen(screening_ipa)
    hit = ScreeningHit.objects.get(provider=screening_ipa.smith)
    review_hit(actor=screening_ipa.users["cred"], hit=hit, decision="dismissed", note="different person")
    second = _screen(screening_ipa)
    assert (first.new_alerts, second.matches, second.new_alerts) == (3, 3, 0)
    assert ScreeningHit.objects.count() == 3
    assert {f["hit"] for f in second.found} == set(ScreeningHit.objects.values_list("pk", flat=True))


def test_malformed_rows_are_reported_row_by_row_and_the_rest_screened(screening_ipa: Any) -> None:
    run = _screen(screening_ipa, leie="leie_malformed.csv")
    result = result_json(run)
    assert result["rejected_rows"] == [
        {"row": 3, "message": "leie_malformed.csv: 3 columns where the header has 18"},
        {"row": 4, "message": "leie_malformed.csv: DOB '19701399' is not a date (YYYYMMDD)"},
        {
            "row": 5,
            "message": "leie_malformed.csv: NPI '1234567890' is not a valid NPI (10 digits with a correct check digit)",
        },
        {"row": 6, "message": "leie_malformed.csv: EXCLDATE is empty: an exclusion has a date"},
    ]
    assert {h["provider_id"] for h in result["hits"]} == {screening_ipa.pcp_a.pk, screening_ipa.smith.pk}
    assert run.rejected_rows == 4
    assert ExclusionListImport.objects.get().rejected_count == 4


def test_a_file_not_in_the_leie_layout_is_refused_with_nothing_applied(screening_ipa: Any) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        _screen(screening_ipa, leie="not_leie.csv")
    message = caught.value.fields["leie"][0]
    assert message.startswith(
        "not_leie.csv is not in the OIG LEIE layout: the header lacks columns LASTNAME, "
    )
    assert message.endswith("nothing was screened")
    assert not ExclusionListImport.objects.exists()
    assert not ScreeningRun.objects.exists()
    assert not ScreeningHit.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_sam_file_not_in_its_layout_refuses_the_whole_screening(screening_ipa: Any) -> None:
    with pytest.raises(ValidationFailed, match=r"SAM\.gov exclusions extract layout"):
        _screen(screening_ipa, sam="leie_small.csv")
    assert not ScreeningRun.objects.exists()
    assert not ExclusionListImport.objects.exists()


def test_only_credentialing_staff_may_screen(screening_ipa: Any) -> None:
    for name in ("alice", "auditor", "ops"):
        with pytest.raises(PermissionDenied):
            screen(actor=screening_ipa.users[name], leie_path=DATA / "leie_small.csv")
    screen(actor=screening_ipa.users["admin"], leie_path=DATA / "leie_small.csv")
    assert ScreeningRun.objects.count() == 1


def test_a_review_needs_a_note_and_is_audited(screening_ipa: Any) -> None:
    _screen(screening_ipa)
    cred = screening_ipa.users["cred"]
    hit = ScreeningHit.objects.get(provider=screening_ipa.pcp_a)
    with pytest.raises(ValidationFailed) as caught:
        review_hit(actor=cred, hit=hit, decision="confirmed", note="   ")
    assert caught.value.fields == {"note": ["say why: a review needs a note"]}
    hit.refresh_from_db()
    assert hit.status == "open"
    assert not Exclusion.objects.exists()
    assert not AuditEvent.objects.filter(action="credentialing.review_hit").exists()

    review_hit(actor=cred, hit=hit, decision="confirmed", note="LEIE search: same DOB and address")
    hit.refresh_from_db()
    assert (hit.status, hit.reviewer, hit.note) == ("confirmed", "cred", "LEIE search: same DOB and address")
    assert hit.reviewed_at is not None
    event = AuditEvent.objects.get(action="credentialing.review_hit")
    assert event.object_id == str(hit.pk)
    assert event.actor_username == "cred"
    assert event.changes["status"] == ["open", "confirmed"]
    assert event.changes["note"] == ["", "LEIE search: same DOB and address"]
    assert event.changes["exclusion_from"] == [None, "2023-03-01"]
    with pytest.raises(ValidationFailed, match="already confirmed by cred"):
        review_hit(actor=cred, hit=hit, decision="dismissed", note="changed my mind")


def test_a_confirmed_hit_excludes_the_provider_from_the_exclusion_date(screening_ipa: Any) -> None:
    _screen(screening_ipa)
    cred = screening_ipa.users["cred"]
    alder = ScreeningHit.objects.get(provider=screening_ipa.pcp_a)
    birch = ScreeningHit.objects.get(provider=screening_ipa.pcp_b)
    review_hit(actor=cred, hit=alder, decision="confirmed", note="same person")
    review_hit(actor=cred, hit=birch, decision="dismissed", note="NPI reused by mistake in the list")
    assert selectors.excluded_npis(dt.date(2023, 2, 28)) == set()
    assert selectors.excluded_npis(dt.date(2023, 3, 1)) == {screening_ipa.pcp_a.npi}
    assert selectors.excluded_npis(dt.date(2026, 11, 1)) == {screening_ipa.pcp_a.npi}
    assert Exclusion.objects.get().hit == alder


def test_the_auditor_reads_but_cannot_review(screening_ipa: Any) -> None:
    _screen(screening_ipa)
    auditor = screening_ipa.users["auditor"]
    hit = selectors.open_alerts(auditor).first()
    assert hit is not None
    assert float(hit.score) == 100.0
    with pytest.raises(PermissionDenied):
        review_hit(actor=auditor, hit=hit, decision="dismissed", note="no")
    with pytest.raises(PermissionDenied):
        selectors.open_alerts(screening_ipa.users["alice"])


def test_the_sweep_is_due_the_interval_after_the_last_screening(screening_ipa: Any) -> None:
    cred = screening_ipa.users["cred"]
    never = selectors.sweep_status(cred, dt.date(2026, 11, 27))
    assert never.last_run is None
    assert never.overdue
    _screen(screening_ipa, today=dt.date(2026, 10, 1))
    on_time = selectors.sweep_status(cred, dt.date(2026, 10, 31))
    assert (on_time.next_due, on_time.overdue, on_time.interval_days) == (dt.date(2026, 10, 31), False, 30)
    late = selectors.sweep_status(cred, dt.date(2026, 11, 3))
    assert (late.overdue, late.days_late) == (True, 3)
    # the interval is effective-dated data
    ScreeningPolicy.objects.update(valid_to=dt.date(2026, 10, 31))
    policy = ScreeningPolicy.objects.get()
    ScreeningPolicy.objects.create(
        valid_from=dt.date(2026, 11, 1), threshold=policy.threshold, name_only_threshold=policy.name_only_threshold,
        last_name_weight=policy.last_name_weight, first_name_weight=policy.first_name_weight,
        sweep_interval_days=45,
    )  # fmt: skip
    assert selectors.sweep_status(cred, dt.date(2026, 11, 3)).overdue is False


def test_the_threshold_in_force_decides_a_near_match(screening_ipa: Any) -> None:
    ScreeningPolicy.objects.update(threshold=95)
    run = _screen(screening_ipa)
    assert screening_ipa.smith.pk not in {f["provider_id"] for f in run.found}
    assert float(run.threshold) == 95.0


# -- the command ---------------------------------------------------------------------------------------------


def test_the_command_prints_the_json_with_exactly_its_keys(screening_ipa: Any) -> None:
    out = StringIO()
    call_command(
        "credentialing", "screen", "--leie", str(DATA / "leie_malformed.csv"), "--sam",
        str(DATA / "sam_small.csv"), "--json", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert set(result) == {"screened", "hits", "rejected_rows"}
    assert result["screened"] == 6
    assert all(set(h) == {"npi", "provider_id", "score"} for h in result["hits"])
    assert all(set(r) == {"row", "message"} for r in result["rejected_rows"])
    assert result["hits"][0] == {
        "npi": screening_ipa.pcp_a.npi,
        "provider_id": screening_ipa.pcp_a.pk,
        "score": 100.0,
    }
    assert {(h["npi"], h["score"]) for h in result["hits"]} == {
        (screening_ipa.pcp_a.npi, 100.0),
        (screening_ipa.smith.npi, 94.7),
        (screening_ipa.specialist.npi, 100.0),
        (screening_ipa.garcia.npi, 100.0),
    }
    assert [r["row"] for r in result["rejected_rows"]] == [3, 4, 5, 6]
    assert ScreeningRun.objects.get().run_by.startswith("cli")


def test_the_command_prints_a_summary(screening_ipa: Any) -> None:
    out = StringIO()
    call_command("credentialing", "screen", "--leie", str(DATA / "leie_small.csv"), stdout=out)
    text = out.getvalue()
    assert "6 providers, 3 matches, 3 new alerts, 0 rejected rows" in text


def test_the_command_refuses_a_file_not_in_the_layout(screening_ipa: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"not_leie.csv is not in the OIG LEIE layout"):
        call_command("credentialing", "screen", "--leie", str(DATA / "not_leie.csv"), "--json")
    with pytest.raises(CommandError, match="no such file"):
        call_command("credentialing", "screen", "--leie", str(tmp_path / "missing.csv"))
    assert not ScreeningRun.objects.exists()
