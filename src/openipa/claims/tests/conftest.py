"""The small IPA set up to pay claims: a contracted specialist group, the DOFR, fee schedules, a second finance
user; and the public 837P sample made into a claim of one of its members."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.contracts.models import ContractTerm, DofrEntry, ServiceCategoryRule
from openipa.contracts.services.fees import load_gpci_file, load_rvu_file
from openipa.core.roles import Role
from openipa.network.models import ParticipationAgreement

DATA = Path(__file__).resolve().parents[1] / "engine" / "tests" / "data"
SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples" / "x12"
if not SAMPLES.is_dir():  # a clone beside the shared folder, or the CI's /tmp/shared link
    SAMPLES = Path("/tmp/shared/samples/x12")
JAN = dt.date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = str(tmp_path / "var")


@pytest.fixture
def claims_ipa(small_ipa: Any) -> Any:
    """Birch Pediatrics (TIN 234567891) contracted; professional services the IPA's, labs the plan's; the test
    RVU and GPCI files in force from 1 January 2026; the term prices at 100% of Medicare in Los Angeles."""
    ParticipationAgreement.objects.create(practice=small_ipa.practice_b, valid_from=JAN, status="active")
    ContractTerm.objects.filter(pk=small_ipa.term.pk).update(claims_locality="0118218", timely_filing_days=90)
    for category, low, high in (("professional", "99201", "99499"), ("lab", "80000", "89999")):
        ServiceCategoryRule.objects.create(category=category, code_from=low, code_to=high, valid_from=JAN)
    DofrEntry.objects.create(term=small_ipa.term, service_category="professional", responsible_party="ipa")
    DofrEntry.objects.create(term=small_ipa.term, service_category="lab", responsible_party="plan")
    fin = small_ipa.users["fin"]
    load_rvu_file(actor=fin, path=DATA / "PPRRVU_TEST.csv", valid_from=JAN)
    load_gpci_file(actor=fin, path=DATA / "GPCI_TEST.csv", valid_from=JAN)
    small_ipa.users["fin2"] = user_create(actor=None, username="fin2", password="x" * 12, role=Role.FINANCE)
    return small_ipa


def claim_file(tmp_path: Path, name: str = "claims.837", *, member: str = "SUN0001", clm: str = "") -> Path:
    """The public 837P sample made ours: Amy's claim from Birch Pediatrics' TIN, dated October 2026."""
    text = (SAMPLES / "lfh_demo.example1.837").read_text()
    text = text.replace("JS00111223333", member).replace("REF*EI*587654321", "REF*EI*234567891")
    text = text.replace("*20061003", "*20261003").replace("*20061010", "*20261010")
    if clm:
        text = text.replace("CLM*26463774*100.00***11:B:1*Y*A*Y*I", clm)
    path = tmp_path / name
    path.write_text(text)
    return path
