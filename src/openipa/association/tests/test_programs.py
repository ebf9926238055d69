"""Health-improvement programs on a fixture of three quality runs whose rates are worked out by hand:

CBP, numerator/denominator per practice (ALDER, BIRCH, CEDAR take part; DOGWD does not):

    run        as of        ALDER  BIRCH  CEDAR  DOGWD   participants           comparison
    baseline   2026-03-31   1/4    2/4    1/4    2/3     4/12 = 33.3%           2/3 = 66.7%
    mid        2026-06-30   3/4    2/4    2/4    1/3     7/12 = 58.3%           1/3 = 33.3%
    late       2026-09-30   4/4    3/4    0/4    2/3     7/8 = 87.5% (CEDAR     0/4 + 2/3 = 2/7 = 28.6%
                                                          left on 2026-08-31)
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import pytest
from django.utils import timezone

from openipa.accounts.services import user_create
from openipa.association import selectors, services
from openipa.association.models import Program, ProgramParticipant
from openipa.association.tests.conftest import add_practice
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.roles import Role
from openipa.membership.services import member_create
from openipa.quality.models import MeasureResult, QualityRun

RATES = {
    "baseline": {"ALDER": (1, 4), "BIRCH": (2, 4), "CEDAR": (1, 4), "DOGWD": (2, 3)},
    "mid": {"ALDER": (3, 4), "BIRCH": (2, 4), "CEDAR": (2, 4), "DOGWD": (1, 3)},
    "late": {"ALDER": (4, 4), "BIRCH": (3, 4), "CEDAR": (0, 4), "DOGWD": (2, 3)},
}
AS_OF = {"baseline": dt.date(2026, 3, 31), "mid": dt.date(2026, 6, 30), "late": dt.date(2026, 9, 30)}


@pytest.fixture
def world(ipa: Any) -> Any:
    cedar = add_practice(ipa, "CEDAR", "Cedar Internal Medicine", "345678912")
    dogwood = add_practice(ipa, "DOGWD", "Dogwood Clinic", "456789123")
    practices = {"ALDER": ipa.practice_a, "BIRCH": ipa.practice_b, "CEDAR": cedar, "DOGWD": dogwood}
    members: dict[str, list[Any]] = {}
    for code, practice in practices.items():
        members[code] = [
            member_create(
                actor=None,
                data={
                    "payer": ipa.payer,
                    "payer_member_id": f"{code}{i}",
                    "first_name": "M",
                    "last_name": f"{code}{i}",
                    "date_of_birth": dt.date(1950, 1, 1 + i),
                    "sex": "F",
                },
            )
            for i in range(4 if code != "DOGWD" else 3)
        ]
        del practice
    runs = {}
    for name, as_of in AS_OF.items():
        run = QualityRun.objects.create(measurement_year=2026, as_of=as_of, run_at=timezone.now(), run_by="t",
                                        definitions_sha256="0" * 64, value_sets_sha256="0" * 64, member_count=15,
                                        status="complete")  # fmt: skip
        rows = []
        for code, (num, den) in RATES[name].items():
            for i, member in enumerate(members[code][:den]):
                rows.append(MeasureResult(run=run, measure="CBP", rate="CBP", member=member, excluded=False,
                                          denominator=True, numerator=i < num, practice=practices[code]))  # fmt: skip
            # an excluded member (not in the denominator) and another measure: neither counts
            rows.append(MeasureResult(run=run, measure="CBP", rate="CBP", member=members[code][0], excluded=True,
                                      denominator=False, numerator=False, practice=practices[code]))  # fmt: skip
            rows.append(MeasureResult(run=run, measure="COL-E", rate="COL-E", member=members[code][0],
                                      excluded=False, denominator=True, numerator=True, practice=practices[code]))  # fmt: skip
        MeasureResult.objects.bulk_create(rows)
        runs[name] = run
    ipa.practices = practices
    ipa.runs = runs
    ipa.users["carol"] = user_create(actor=None, username="carol", password="x" * 12, role=Role.PRACTICE_USER,
                                     practice_id=cedar.pk)  # fmt: skip
    ipa.users["dave"] = user_create(actor=None, username="dave", password="x" * 12, role=Role.PRACTICE_USER,
                                    practice_id=dogwood.pk)  # fmt: skip
    return ipa


def _program(world: Any) -> Program:
    program = services.program_create(
        actor=world.users["quality"],
        data={"name": "Blood pressure control, SGV", "initiative": "Home BP cuffs and nurse follow-up calls",
              "region": world.region, "measure": "CBP", "rate": "CBP", "baseline_run": world.runs["baseline"],
              "target_rate": "0.7000", "start": dt.date(2026, 4, 1), "end": dt.date(2026, 12, 31),
              "status": "active"},
        practices=[world.practices[c] for c in ("ALDER", "BIRCH", "CEDAR")],
    )  # fmt: skip
    cedar = ProgramParticipant.objects.get(program=program, practice=world.practices["CEDAR"])
    services.participant_leave(actor=world.users["quality"], participant=cedar, left_on=dt.date(2026, 8, 31))
    return program


@pytest.mark.django_db
def test_results_against_baseline_and_comparison_by_hand(world: Any) -> None:
    program = _program(world)
    assert (program.baseline_numerator, program.baseline_denominator) == (4, 12)
    results = selectors.program_results(world.users["quality"], program)
    got = [(p.run.as_of, p.participants.value if p.participants else None,
            p.comparison.value if p.comparison else None) for p in results.points]  # fmt: skip
    assert got == [
        (AS_OF["baseline"], Fraction(4, 12), Fraction(2, 3)),
        (AS_OF["mid"], Fraction(7, 12), Fraction(1, 3)),
        (AS_OF["late"], Fraction(7, 8), Fraction(2, 7)),
    ]
    late = results.points[-1]
    assert [(p.code, r.numerator, r.denominator) for p, r in late.by_practice] == [
        ("ALDER", 4, 4),
        ("BIRCH", 3, 4),
    ]
    assert results.target == Fraction(7, 10)


@pytest.fixture
def k2(monkeypatch: pytest.MonkeyPatch) -> None:
    """K = 2 (the shipped scorecard data says 5: too many for a fixture of four practices)."""
    monkeypatch.setattr(selectors, "min_peer_practices", lambda on: 2)


@pytest.mark.django_db
def test_a_practice_user_sees_its_own_rate_and_only_aggregates_of_k_others(world: Any, k2: None) -> None:
    program = _program(world)
    results = selectors.program_results(world.users["alice"], program)
    for point in results.points:
        assert point.by_practice == []
    mid, late = results.points[1], results.points[2]
    assert mid.own is not None
    assert (mid.own.numerator, mid.own.denominator) == (3, 4)
    assert mid.participants is not None  # BIRCH and CEDAR besides her
    assert mid.participants.value == Fraction(7, 12)
    assert results.baseline is not None
    assert results.baseline.value == Fraction(4, 12)
    assert late.participants is None  # BIRCH alone besides her: she could work its rate out
    assert mid.comparison is None  # only DOGWD: one practice
    assert late.comparison is not None  # CEDAR (left) and DOGWD
    assert late.comparison.value == Fraction(2, 7)
    # CEDAR left but took part: it still sees the program; DOGWD never took part
    assert selectors.program_get(world.users["carol"], program.pk) == program
    with pytest.raises(NotFound):
        selectors.program_get(world.users["dave"], program.pk)
    with pytest.raises(PermissionDenied):
        selectors.programs(world.users["fin"])


@pytest.mark.django_db
def test_with_the_shipped_k_a_practice_user_sees_no_group_of_this_small_network(world: Any) -> None:
    assert selectors.min_peer_practices(dt.date(2026, 6, 30)) == 5
    results = selectors.program_results(world.users["alice"], _program(world))
    assert results.baseline is None
    assert all(p.participants is None and p.comparison is None for p in results.points)
    assert results.points[1].own is not None


@pytest.mark.django_db
def test_region_default_participants_and_refusals(world: Any) -> None:
    data = {"name": "Diabetes", "initiative": "A1c outreach", "region": world.region, "measure": "GSD",
            "rate": "GSD <8", "baseline_run": world.runs["baseline"], "target_rate": "0.6", "start": dt.date(2026, 4, 1),
            "end": dt.date(2026, 12, 31)}  # fmt: skip
    program = services.program_create(actor=world.users["quality"], data=data)
    assert (
        ProgramParticipant.objects.filter(program=program).count() == 4
    )  # every active practice of the region
    for bad, field in (({"measure": "NOPE"}, "measure"), ({"rate": "GSD <7"}, "rate"), ({"target_rate": "70"}, "target_rate"),
                       ({"end": dt.date(2026, 1, 1)}, "end"), ({"region": None}, "region")):  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            services.program_create(actor=world.users["quality"], data={**data, **bad})
        assert field in exc.value.fields
    with pytest.raises(PermissionDenied):
        services.program_create(actor=world.users["fin"], data=data)
    assert Program.objects.count() == 1


@pytest.mark.django_db
def test_programs_cli_lists_baseline_latest_and_target(world: Any) -> None:
    import io
    import json

    from django.core.management import call_command

    program = _program(world)
    out = io.StringIO()
    call_command("programs", "list", "--user", "qual", "--json", stdout=out)
    [row] = json.loads(out.getvalue())["programs"]
    assert row["id"] == program.pk
    assert (row["baseline"], row["latest"], row["target"], row["participants"]) == (
        "33.3%",
        "87.5%",
        "70.0%",
        2,
    )


@pytest.mark.django_db
def test_program_pages_show_a_practice_user_no_other_practice(world: Any, k2: None) -> None:
    from django.test import Client
    from django.urls import reverse

    program = _program(world)

    def client(name: str) -> Client:
        c = Client()
        c.force_login(world.users[name])
        return c

    url = reverse("web:association:program_detail", args=[program.pk])
    staff = client("quality").get(url).content.decode()
    assert "BIRCH" in staff
    assert "87.5%" in staff
    assert 'id="program-results-title"' in staff
    alice = client("alice")
    for response in (alice.get(url), alice.get(reverse("web:association:program_list"))):
        assert response.status_code == 200
        body = response.content.decode()
        for leak in (
            "BIRCH",
            "Birch Pediatrics",
            "CEDAR",
            "Cedar Internal",
            "DOGWD",
            "Dogwood",
            "2/4",
            "0/4",
            "2/3",
            "1/3",
        ):
            assert leak not in body, leak
    body = alice.get(url).content.decode()
    assert "58.3%" in body  # the three participants together at the mid run
    assert "too few practices to show" in body
    assert client("dave").get(url).status_code == 404
    assert client("fin").get(url).status_code == 403
    assert alice.get(reverse("web:association:program_create")).status_code == 403


@pytest.mark.django_db
def test_program_created_and_edited_on_the_page(world: Any) -> None:
    from django.test import Client
    from django.urls import reverse

    c = Client()
    c.force_login(world.users["quality"])
    data = {"name": "BP SGV", "initiative": "Cuffs", "region": world.region.pk, "measure": "CBP", "rate": "CBP",
            "baseline_run": world.runs["baseline"].pk, "target_rate": "0.7", "start": "2026-04-01",
            "end": "2026-12-31", "status": "active",
            "practices": [world.practices["ALDER"].pk, world.practices["BIRCH"].pk]}  # fmt: skip
    assert c.post(reverse("web:association:program_create"), {**data, "rate": "CBP 2"}).status_code == 400
    assert not Program.objects.exists()
    response = c.post(reverse("web:association:program_create"), data)
    assert response.status_code == 302
    program = Program.objects.get()
    assert (program.baseline_numerator, program.baseline_denominator) == (3, 8)
    assert c.get(reverse("web:association:program_edit", args=[program.pk])).status_code == 200
    c.post(reverse("web:association:program_edit", args=[program.pk]), {**data, "target_rate": "0.8"})
    program.refresh_from_db()
    assert str(program.target_rate) == "0.8000"
