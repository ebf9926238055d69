"""The demo's members and eligibility come from its 834 files, imported through the roster service: the result
is what the payers reported, which is the generated truth except for events reported after the as-of month."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from openipa.contracts.models import Payer
from openipa.core.months import Month, member_months
from openipa.demo import engine
from openipa.demo.engine.rosters import RosterPlan, plan_rosters
from openipa.demo.services import roster_dir
from openipa.demo.tests.builds import module_demo
from openipa.edi.t834 import MemberRecord, read_834
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment, RosterImport
from openipa.membership.services.roster import import_roster
from openipa.web.stats import platform_stats

pytestmark = pytest.mark.django_db

AS_OF = Month(2026, 3)
MEMBERS = 1500
SEED = 5


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture(scope="module")
def module_build(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[engine.DemoData, RosterPlan, Path]]:
    """One build for the module (rolled back at its end), the generated truth and where the files went."""
    with module_demo(
        django_db_blocker, tmp_path_factory, "roster-demo", seed=SEED, members=MEMBERS, as_of=AS_OF,
        capitation_year=False,
    ):  # fmt: skip
        var = Path(settings.VAR_DIR)
        data = engine.generate(seed=SEED, members=MEMBERS, as_of=AS_OF)
        yield data, plan_rosters(data), var


@pytest.fixture
def built(
    module_build: tuple[engine.DemoData, RosterPlan, Path], settings: Any
) -> tuple[engine.DemoData, RosterPlan]:
    """The module's build, read (and, by a test, written to) inside the test's transaction, with VAR_DIR at its
    files."""
    data, plan, var = module_build
    settings.VAR_DIR = str(var)
    return data, plan


def _db_timelines() -> dict[tuple[str, str], tuple[tuple[Any, ...], tuple[Any, ...]]]:
    keys = {pk: (p, m) for pk, p, m in Member.objects.values_list("pk", "payer__code", "payer_member_id")}
    cov: dict[int, list[Any]] = defaultdict(list)
    for member, product, start, end in EligibilitySpan.objects.values_list(
        "member_id", "product__code", "valid_from", "valid_to"
    ):
        cov[member].append((product, start, end))
    pcp: dict[int, list[Any]] = defaultdict(list)
    for member, npi, practice, start, end in PcpAssignment.objects.values_list(
        "member_id", "provider__npi", "practice__code", "valid_from", "valid_to"
    ):
        pcp[member].append((npi, practice, start, end))
    return {
        key: (tuple(sorted(cov[pk], key=lambda c: c[1])), tuple(sorted(pcp[pk], key=lambda p: p[2])))
        for pk, key in keys.items()
    }


def test_eligibility_and_pcps_are_exactly_what_the_payers_reported(built: Any) -> None:
    data, plan = built
    on_file = _db_timelines()
    expected = {}
    for i, m in enumerate(data.members):
        known = plan.known(i)
        if known.coverage:
            expected[(m.payer_code, m.payer_member_id)] = (known.coverage, known.pcp)
    assert on_file == expected
    # the full files carried the enrollment history: spans (and PCPs) from before the window, none of it retro
    window_start = data.first_month.first_day
    assert EligibilitySpan.objects.filter(valid_from__lt=window_start).count() > 0.5 * len(expected)
    assert PcpAssignment.objects.filter(valid_from__lt=window_start).count() > 0.5 * len(expected)
    full = RosterImport.objects.filter(full_file=True)
    assert full.count() == 3
    assert all(r.retro == 0 for r in full)
    assert not [w for r in full for w in r.warnings if "affiliation" in str(w) or "before the date" in str(w)]
    # where every event of a member was reported, that is the generated truth itself
    dropped = {e.member for e in plan.dropped()}
    assert dropped  # some events were due after the as-of month
    for i, m in enumerate(data.members):
        if i not in dropped:
            truth = plan.truth(i)
            assert on_file[(m.payer_code, m.payer_member_id)] == (truth.coverage, truth.pcp)


def test_member_months_match_the_truth_for_months_whose_events_were_all_reported(built: Any) -> None:
    data, plan = built
    from_db = platform_stats()["member_months"]["by_payer_month"]
    truth: dict[str, dict[Month, int]] = defaultdict(lambda: defaultdict(int))
    spans: dict[int, list[Any]] = defaultdict(list)
    for s in data.eligibility:
        spans[s.member].append((s.valid_from, s.valid_to))
    for i, member_spans in spans.items():
        for month, n in member_months(member_spans, data.first_month, AS_OF).items():
            truth[data.members[i].payer_code][month] += n
    compared = 0
    for payer in data.payers:
        complete = plan.complete_before(payer.code)
        for month in Month.range(data.first_month, AS_OF):
            if month < complete:
                assert from_db[payer.code][str(month)] == truth[payer.code][month], (payer.code, month)
                compared += 1
    assert compared >= 9  # at least the first three months of each payer


def test_each_file_is_kept_and_on_record_with_the_counts_the_plan_expects(built: Any) -> None:
    _data, plan = built
    imports = list(RosterImport.objects.select_related("payer").order_by("pk"))
    assert [(r.payer.code, r.file_name) for r in imports] == [(f.payer_code, f.file_name) for f in plan.files]
    assert len(imports) == 3 * 12 + 1
    assert [r.full_file for r in imports[:3]] == [True, True, True]
    for record, roster in zip(imports, plan.files, strict=True):
        path = roster_dir() / roster.path
        assert path.is_file()
        assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record.file_date == roster.month.first_day
        assert record.imported_by == "demo"
        if roster.rejected:
            assert record.status == RosterImport.Status.REJECTED
            continue  # read up to its bad date, where reading stops
        assert record.records == roster.records
        assert record.status == RosterImport.Status.APPLIED
        assert (record.retro, record.outside_window) == (roster.retro, roster.outside_window), roster.path
        if not roster.full:
            assert record.added + record.changed + record.termed == roster.records, roster.path
    assert sum(r.retro for r in imports) > 0


def test_one_file_is_rejected_whole_then_sent_again_corrected(built: Any) -> None:
    _data, plan = built
    bad = plan.rejected
    assert bad is not None
    rejected = RosterImport.objects.get(status=RosterImport.Status.REJECTED)
    assert (rejected.payer.code, rejected.file_name) == (bad.payer_code, bad.file_name)
    messages = [e["message"] for e in rejected.errors]
    assert len(messages) == 2
    assert "is not a product of GOLDMC" in messages[0]
    assert "is not a CCYYMMDD date" in messages[1]
    assert rejected.ack_999
    corrected = RosterImport.objects.get(
        payer=rejected.payer, file_name=bad.file_name.replace("-rejected", "")
    )
    assert corrected.status == RosterImport.Status.APPLIED
    assert corrected.pk > rejected.pk
    assert not EligibilitySpan.objects.filter(source_import=rejected).exists()


def test_members_get_the_details_the_import_does_not_read_from_the_834(built: Any) -> None:
    data, plan = built
    details = {
        (p, m): (mbi, phone, language, death)
        for p, m, mbi, phone, language, death in Member.objects.values_list(
            "payer__code", "payer_member_id", "mbi", "phone", "language", "date_of_death"
        )
    }
    deaths = 0
    for i, m in enumerate(data.members):
        key = (m.payer_code, m.payer_member_id)
        if key not in details:
            continue
        known = plan.known(i).coverage
        death = m.date_of_death if known and known[-1][2] is not None else None
        deaths += death is not None
        assert details[key] == (m.mbi, m.phone, m.language, death)
    assert deaths > 0


def test_the_kept_files_can_be_imported_again_by_hand(built: Any) -> None:
    _data, plan = built
    roster = plan.files[-1]
    path = roster_dir() / roster.path
    records = [r for r in read_834(path) if isinstance(r, MemberRecord)]
    assert len(records) == roster.records
    again = import_roster(
        actor=None, payer=Payer.objects.get(code=roster.payer_code), path=path, today=roster.month.first_day
    )
    assert again.status == RosterImport.Status.DUPLICATE
    out = StringIO()
    call_command("edi", "stats", str(path), "--json", stdout=out)
    stats = json.loads(out.getvalue())
    assert "834" in json.dumps(stats)
