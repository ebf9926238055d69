"""The credentialing elements and the first two rule versions (ADR 0013):

- 2000-01-01..2025-06-30: verifications count when at most 180 days old on the committee decision date;
- 2025-07-01..open: 120 days (NCQA's 2025 credentialing standards).

Both: recredentialing every 36 calendar months from the decision (no grace), decision letters within 30 days.
Education and training and work history are verified at initial credentialing only; board certification only
when the application claims it; DEA or state CDS registration only for prescribers."""

import datetime as dt

from django.db import migrations

ELEMENTS = [
    # code, name, description, expires, initial, recredentialing, condition
    ("license", "State license(s)",
     "Every state license, at the state licensing board (online or written).", True, True, True, "always"),
    ("dea", "DEA / state controlled-substance registration",
     "DEA certificate (DEA Diversion Control online) and the state CDS registration where the state has one.",
     True, True, True, "prescribes"),
    ("education", "Education and training (highest level)",
     "The highest level: residency or fellowship program, medical school (AMA Physician Masterfile, ECFMG, "
     "the board if it verifies training).", False, True, False, "always"),
    ("board", "Board certification",
     "If claimed: the ABMS member board (Certification Matters), AOA or the board's own listing.",
     True, True, True, "board_claimed"),
    ("work_history", "Work history (5 years)",
     "Five years from the application or CV; gaps over 6 months explained (in writing over a year).",
     False, True, False, "always"),
    ("malpractice_history", "Malpractice history (NPDB query)",
     "A National Practitioner Data Bank query (or continuous query enrollment) for settlements and judgments.",
     False, True, True, "always"),
    ("insurance", "Current malpractice insurance",
     "The face sheet or the carrier's confirmation: carrier, limits, dates.", True, True, True, "always"),
    ("sanctions", "Sanctions and exclusions",
     "OIG LEIE, SAM.gov, the state Medicaid exclusion list, licensing board and Medicare opt-out actions.",
     False, True, True, "always"),
    ("attestation", "Signed attestation",
     "The application's attestation signed and dated: reasons for inability to perform, lack of present "
     "illegal drug use, history of loss of license and felony convictions, loss or limitation of privileges "
     "or disciplinary action, current malpractice coverage, correctness and completeness of the application.",
     False, True, True, "always"),
]  # fmt: skip

RULES = [
    (dt.date(2000, 1, 1), dt.date(2025, 6, 30), 180, "verifications within 180 days (before NCQA 2025)"),
    (dt.date(2025, 7, 1), None, 120, "verifications within 120 days (NCQA 2025 standards)"),
]


def seed(apps, schema_editor):
    ElementKind = apps.get_model("credentialing", "ElementKind")
    CredentialingRule = apps.get_model("credentialing", "CredentialingRule")
    RuleElement = apps.get_model("credentialing", "RuleElement")
    if CredentialingRule.objects.exists():
        return
    kinds = {}
    for position, (code, name, description, expires, *_rest) in enumerate(ELEMENTS, start=1):
        kinds[code], _ = ElementKind.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "expires": expires, "position": position},
        )
    for valid_from, valid_to, window, note in RULES:
        rule = CredentialingRule.objects.create(
            valid_from=valid_from, valid_to=valid_to, window_days=window, recredential_months=36, letter_days=30,
            note=note,
        )  # fmt: skip
        for code, _n, _d, _e, initial, recred, condition in ELEMENTS:
            RuleElement.objects.create(
                rule=rule, element=kinds[code], initial=initial, recredentialing=recred, condition=condition
            )


def unseed(apps, schema_editor):
    apps.get_model("credentialing", "RuleElement").objects.all().delete()
    apps.get_model("credentialing", "CredentialingRule").objects.all().delete()
    apps.get_model("credentialing", "ElementKind").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("credentialing", "0003_files")]

    operations = [migrations.RunPython(seed, unseed)]
