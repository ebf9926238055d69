"""The enumerations the API publishes are exactly the models' choices."""

from __future__ import annotations

from typing import get_args

import pytest

from openipa.api import schemas
from openipa.contracts.models import Contract, DofrEntry
from openipa.network.models import ParticipationAgreement, Practice, Provider


@pytest.mark.parametrize(
    ("literal", "choices"),
    [
        (schemas.PracticeStatus, Practice.Status),
        (schemas.ProviderKind, Provider.Kind),
        (schemas.LegalBasis, Contract.LegalBasis),
        (schemas.ContractStatus, Contract.Status),
        (schemas.AgreementStatus, ParticipationAgreement.Status),
        (schemas.DofrParty, DofrEntry.Party),
    ],
)
def test_the_published_values_are_the_model_choices(literal, choices):
    assert set(get_args(literal)) == set(choices.values)
