"""A term version's DOFR table is replaced whole: each category once (whatever its case), a known party,
bounded lengths; every problem is named by its entry, and a refused table changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from openipa.contracts import selectors, services
from openipa.contracts.services import DofrRow
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent


def _table(small_ipa: Any) -> list[tuple[str, str, str]]:
    return list(
        selectors.dofr_entries(small_ipa.users["fin"], small_ipa.term).values_list(
            "service_category", "responsible_party", "notes"
        )
    )


def test_rows_with_notes_replace_the_table_trimmed_and_audited(small_ipa):
    services.dofr_set(
        actor=small_ipa.users["fin"],
        term=small_ipa.term,
        entries=[DofrRow(" Professional ", "ipa", "all PCP and specialist"), DofrRow("Inpatient", "plan")],
    )
    assert _table(small_ipa) == [("Inpatient", "plan", ""), ("Professional", "ipa", "all PCP and specialist")]
    event = AuditEvent.objects.get(action="dofr.set")
    assert event.changes == {"Inpatient": [None, "plan"], "Professional": [None, "ipa"]}


def test_every_bad_row_is_named_by_its_entry_and_nothing_changes(small_ipa):
    services.dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Lab": "plan"})
    with pytest.raises(ValidationFailed) as err:
        services.dofr_set(
            actor=small_ipa.users["fin"],
            term=small_ipa.term,
            entries=[
                DofrRow("Professional", "ipa"),
                DofrRow("professional", "plan"),
                DofrRow("  ", "ipa"),
                DofrRow("Transport", "nobody"),
                DofrRow("X" * 101, "ipa", "n" * 201),
            ],
        )
    assert err.value.fields == {
        "entries.1.service_category": [
            "'professional' is already listed (row 1); give each category one party."
        ],
        "entries.2.service_category": ["Name the service category."],
        "entries.3.responsible_party": ["'nobody' is not a party; use one of ipa, plan, hospital, shared."],
        "entries.4.service_category": ["At most 100 characters."],
        "entries.4.notes": ["At most 200 characters."],
    }
    assert _table(small_ipa) == [("Lab", "plan", "")]


def test_an_empty_table_clears_it(small_ipa):
    services.dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Lab": "plan"})
    services.dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries=[])
    assert _table(small_ipa) == []


@pytest.mark.parametrize("persona", ["ops", "auditor", "alice", "messenger"])
def test_roles_that_may_not_edit_contracts_change_no_dofr(small_ipa, persona):
    services.dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Lab": "plan"})
    with pytest.raises(PermissionDenied):
        services.dofr_set(actor=small_ipa.users[persona], term=small_ipa.term, entries={"Lab": "ipa"})
    assert _table(small_ipa) == [("Lab", "plan", "")]
