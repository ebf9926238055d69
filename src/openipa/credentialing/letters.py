"""The committee's decision letter as a PDF (ReportLab, the standard Helvetica fonts only): to the provider, the
decision and its date, the conditions of a conditional approval, the recredentialing due date of an approval,
and for a denial the right to ask for a review. Who may read it is the selectors' business (`decision_get`)."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings

from openipa.credentialing.models import CommitteeDecision

_SENTENCES = {
    CommitteeDecision.Decision.APPROVE: "The credentialing committee approved your {kind} on {date}.",
    CommitteeDecision.Decision.APPROVE_CONDITIONS: (
        "The credentialing committee approved your {kind} on {date}, with the conditions below."
    ),
    CommitteeDecision.Decision.DENY: "The credentialing committee denied your {kind} on {date}.",
}


def letter_pdf(decision: CommitteeDecision) -> bytes:
    """The letter of a final decision (a deferral has none: ValueError)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    if decision.decision not in _SENTENCES:
        raise ValueError("a deferral sends no decision letter")
    styles = getSampleStyleSheet()
    provider = decision.provider
    file = decision.file
    ipa = str(getattr(settings, "IPA_NAME", "OpenIPA"))

    def para(text: str, style: str = "Normal") -> Any:
        return Paragraph(_escape(text), styles[style])

    story: list[Any] = [
        para(ipa, "Title"),
        para("Credentialing committee decision", "Heading2"),
        para(f"Date of decision: {decision.decided_on.isoformat()}"),
        para(f"Credentialing file {file.pk} ({file.get_kind_display().lower()}), decision {decision.pk}"),
        Spacer(1, 0.2 * inch),
        para(f"{provider}"),
        para(f"NPI {provider.npi}, {provider.specialty}"),
        Spacer(1, 0.2 * inch),
        para(f"Dear {provider},"),
        Spacer(1, 0.1 * inch),
        para(
            _SENTENCES[CommitteeDecision.Decision(decision.decision)].format(
                kind=file.get_kind_display().lower(), date=decision.decided_on.isoformat()
            )
        ),
    ]
    if decision.conditions:
        story += [para("Conditions", "Heading4"), para(decision.conditions)]
    if decision.approved and decision.recredential_due is not None:
        story.append(
            para(
                f"Your recredentialing is due by {decision.recredential_due.isoformat()} (every "
                f"{decision.rule.recredential_months} months). We will contact you ahead of that date; please keep "
                "your license, DEA registration and malpractice insurance current and tell us of any change."
            )
        )
    if decision.decision == CommitteeDecision.Decision.DENY:
        story.append(
            para(
                "You may ask for a review of this decision in writing within 30 days of this letter, with any "
                "information you want the committee to consider. You may also review the information submitted "
                "in support of your application and correct erroneous information."
            )
        )
    story += [Spacer(1, 0.3 * inch), para("Credentialing committee"), para(ipa)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=letter, title=f"Credentialing decision {decision.pk}", author=ipa,
        leftMargin=inch, rightMargin=inch, topMargin=inch, bottomMargin=inch,
    )  # fmt: skip
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")
