"""Notices about requests as PDFs (ReportLab, standard Helvetica only): the decision (approval, denial,
modification, deemed approval), an extension, an appeal's decision. An adverse notice (denial, modification,
an appeal upheld) states the specific reason, the criteria used, who decided, and the appeal rights of the
request's line of business, taken from `data/notices.json` (effective-dated text per line of business and
state). The service keeps each PDF exactly as sent (`AuthNotice`)."""

from __future__ import annotations

import datetime as dt
import io
import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from openipa.utilization.models import Appeal, AuthRequest


@cache
def _rights_rows() -> list[dict[str, Any]]:
    text = resources.files("openipa.utilization").joinpath("data/notices.json").read_text(encoding="utf-8")
    return list(json.loads(text)["appeal_rights"])


def appeal_rights(line_of_business: str, jurisdiction: str, on: dt.date) -> tuple[str, str]:
    """(title, text) of the appeal rights for a line of business and state on a day: the state's own row
    over one for any state, the latest in force. LookupError when there is none."""
    rows = [
        r for r in _rights_rows()
        if r["line_of_business"] == line_of_business and r.get("jurisdiction", "") in ("", jurisdiction)
        and dt.date.fromisoformat(r["valid_from"]) <= on
        and (not r.get("valid_to") or on <= dt.date.fromisoformat(r["valid_to"]))
    ]  # fmt: skip
    if not rows:
        raise LookupError(
            f"no appeal-rights text for {line_of_business} ({jurisdiction or 'any state'}) on {on}"
        )
    best = max(rows, key=lambda r: (r.get("jurisdiction", "") != "", r["valid_from"]))
    return best["title"], best["text"]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def notice_pdf(request: AuthRequest, kind: str, now: dt.datetime, *, appeal: Appeal | None = None) -> bytes:
    """The notice of `kind` (decision, extension, appeal) for a request as it stands."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    from openipa.utilization.selectors import ipa_zone

    tz = ipa_zone()
    styles = getSampleStyleSheet()
    ipa = str(getattr(settings, "IPA_NAME", "OpenIPA"))
    member = request.member

    def para(text: str, style: str = "Normal") -> Any:
        return Paragraph(_escape(text), styles[style])

    def local(moment: dt.datetime | None) -> str:
        return "" if moment is None else f"{moment.astimezone(tz):%B %d, %Y %I:%M %p %Z}"

    titles = {
        "decision": "Notice of decision",
        "extension": "Notice of extension",
        "appeal": "Notice of appeal decision",
    }
    story: list[Any] = [
        para(ipa, "Title"),
        para(f"{titles.get(kind, 'Notice')}: {request.get_kind_display().lower()} {request.number}", "Heading2"),
        para(f"Date of this notice: {local(now)}"),
        para(f"To: {member.first_name} {member.last_name}, member id {member.payer_member_id}"),
        para(f"Requested by NPI {request.requesting_npi}; services by {request.servicing_name or 'any network provider'}"),
        para(f"Received {local(request.received_at)}; {request.get_urgency_display().lower()} request"),
        Spacer(1, 0.15 * inch),
    ]  # fmt: skip
    services = list(request.services.all())
    table = [["Line", "Service", "Dates", "Units asked", "Units approved"]]
    for s in services:
        span = f"{s.service_from:%m/%d/%Y}-{(s.approved_to or s.service_to):%m/%d/%Y}"
        table.append([str(s.line_number), s.code, span, str(s.units),
                      "" if s.units_approved is None else str(s.units_approved)])  # fmt: skip
    story += [Table(table, hAlign="LEFT"), Spacer(1, 0.15 * inch)]
    adverse = False
    if kind == "extension":
        story += [
            para(f"We need more time to decide this request. We have extended the time for our decision to "
                 f"{local(request.due_at)}."),
            para(f"Reason: {request.extension_reason}"),
            para("If you disagree with this extension you may file a grievance with us; we will answer an expedited "
                 "grievance within 24 hours."),
        ]  # fmt: skip
    elif kind == "appeal" and appeal is not None:
        story.append(para(f"Your appeal received {local(appeal.received_at)} was decided on "
                          f"{local(appeal.decided_at)}: {appeal.get_status_display().lower()}."))  # fmt: skip
        story.append(para(f"Reason: {appeal.decision_reason}"))
        adverse = appeal.status != "overturned"
    else:
        status = request.status
        sentence = {
            "approved": "Your request is approved.",
            "deemed_approved": "Your request is approved: no decision was made in the time the law allows.",
            "denied": "Your request is denied.",
            "modified": "Your request is approved in part, as shown above.",
        }.get(status, f"Your request is {request.get_status_display().lower()}.")
        story.append(para(sentence, "Heading4"))
        if request.decision_reason:
            story.append(para(f"Reason: {request.decision_reason}"))
        adverse = status in ("denied", "modified")
    if adverse or (kind == "decision" and request.criteria_text):
        cited = [c for c in (request.criteria_text, str(request.criteria) if request.criteria else "") if c]
        if cited:
            story.append(para(f"Criteria used: {'; '.join(cited)}"))
    if adverse:
        if request.decided_by is not None:
            name = request.decided_by.get_full_name() or request.decided_by.username
            story.append(para(f"Decided by: {name}, physician reviewer"))
        title, text = appeal_rights(request.line_of_business, request.jurisdiction, now.astimezone(tz).date())
        story += [Spacer(1, 0.15 * inch), para(title, "Heading4"), para(text)]
        story.append(
            para("Your doctor may ask to discuss this decision with our physician reviewer (peer to peer).")
        )
    story += [Spacer(1, 0.3 * inch), para("Utilization management"), para(ipa)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=letter, title=f"{titles.get(kind, 'Notice')} {request.number}",
                            author=ipa, leftMargin=inch, rightMargin=inch, topMargin=inch, bottomMargin=inch)  # fmt: skip
    doc.build(story)
    return buffer.getvalue()
