"""Template tags of the roster and eligibility pages: their navigation group, and the member timeline."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from openipa.core.roles import Perm, has_perm, is_practice_scoped
from openipa.membership.selectors import MemberTimeline
from openipa.membership.views.timeline import timeline_svg as draw_timeline
from openipa.ui.navigation import NavLink

register = template.Library()

# (label, url name, for practice users too)
ELIGIBILITY_NAV: list[tuple[str, str, bool]] = [
    ("Rosters", "web:eligibility:roster_list", False),
    ("Member-months", "web:eligibility:member_months_report", True),
    ("PCP panels", "web:eligibility:pcp_panels", True),
]


@register.simple_tag(takes_context=True)
def eligibility_nav(context: Any) -> list[NavLink]:
    """The links of the Eligibility group the signed-in user may open (none without member access)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not has_perm(user, Perm.VIEW_MEMBERS):
        return []
    scoped = is_practice_scoped(user)
    links = []
    for label, name, for_practices in ELIGIBILITY_NAV:
        if scoped and not for_practices:
            continue
        url = reverse(name)
        links.append(NavLink(label=label, url=url, active=request.path.startswith(url)))
    return links


@register.simple_tag
def timeline_svg(timeline: MemberTimeline) -> SafeString:
    """The member's timeline as inline SVG (every text in it escaped by the drawing function)."""
    return mark_safe(draw_timeline(timeline))
