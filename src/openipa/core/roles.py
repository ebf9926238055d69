"""Roles and what each may do: the one table the selectors and services consult.

A user has exactly one role. `practice_user` is bound to one practice and sees only that practice's data.
`auditor` reads everything an administrator reads but can change nothing. Practices' EFT bank details are
finance's alone, to read in clear and to change: not even the administrator, who edits the network, may
redirect a practice's payments (separation of duties, ADR 0003).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from openipa.core.errors import PermissionDenied


class Role(StrEnum):
    IPA_ADMIN = "ipa_admin"
    OPERATIONS = "operations"
    FINANCE = "finance"
    CREDENTIALING = "credentialing"
    UM_NURSE = "um_nurse"
    MEDICAL_DIRECTOR = "medical_director"
    QUALITY = "quality"
    MESSENGER = "messenger"
    PRACTICE_USER = "practice_user"
    AUDITOR = "auditor"
    BOARD = "board"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.IPA_ADMIN: "IPA administrator",
    Role.OPERATIONS: "Operations",
    Role.FINANCE: "Finance",
    Role.CREDENTIALING: "Credentialing",
    Role.UM_NURSE: "UM nurse",
    Role.MEDICAL_DIRECTOR: "Medical director",
    Role.QUALITY: "Quality",
    Role.MESSENGER: "Messenger",
    Role.PRACTICE_USER: "Practice user",
    Role.AUDITOR: "Auditor (read-only)",
    Role.BOARD: "Board member",
}

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


class Perm(StrEnum):
    """Capabilities. A view, API operation or service names the one it needs."""

    VIEW_NETWORK = "view_network"  # practices, providers (public directory data)
    EDIT_NETWORK = "edit_network"
    VIEW_BANK = "view_bank"  # unmasked EFT bank details (finance only)
    EDIT_BANK = "edit_bank"  # change EFT bank details (finance only)
    VIEW_CONTRACTS = "view_contracts"  # payers, contracts, rate tables, fees: financial
    EDIT_CONTRACTS = "edit_contracts"
    VIEW_MEMBERS = "view_members"  # member-level data (scoped for practice users)
    EDIT_MEMBERS = "edit_members"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    VIEW_FINANCE = "view_finance"  # dashboards, capitation, runs, statements, the ledger
    EDIT_FINANCE = "edit_finance"  # import remittances, prepare and approve runs, post to the ledger, pay
    VIEW_CLAIMS = "view_claims"  # claims, their lines and adjudication (member-level: scoped, audited)
    EDIT_CLAIMS = "edit_claims"  # import 837s, adjudicate, work the pend queue (paying them is EDIT_FINANCE)
    VIEW_CREDENTIALING = "view_credentialing"  # exclusion screening runs and alerts (staff only)
    EDIT_CREDENTIALING = "edit_credentialing"  # screen against exclusion lists, review alerts
    # messenger-model contracting (ADR 0012): fee-for-service offers and each practice's own answer
    VIEW_OFFERS = "view_offers"  # the messenger: all, one practice at a time; a practice user: its own
    CONVEY_OFFERS = "convey_offers"  # record offers, convey them, carry answers to payers (the messenger)
    RESPOND_OFFERS = "respond_offers"  # a practice's own answers and standing authorization
    # utilization management (ADR 0014): requests for referrals and prior authorizations
    # VIEW_UM: requests, queues, the SLA dashboard and metrics (a practice user: its own requests)
    # SUBMIT_UM: submit a request (a practice user: for its own members), attach, withdraw, appeal
    # REVIEW_UM: clinical review: take for review, approve, escalate, extend (nurse and physician)
    # DECIDE_UM: deny or modify, decide appeals, peer-to-peer: a physician (the medical director)
    VIEW_UM = "view_um"
    SUBMIT_UM = "submit_um"
    REVIEW_UM = "review_um"
    DECIDE_UM = "decide_um"
    # clinical data from the practices' EHRs, labs and HIEs (issue 8): member-level, audited
    VIEW_CLINICAL = "view_clinical"  # sources, imports, matched patients and their records
    EDIT_CLINICAL = "edit_clinical"  # register sources, import files, work the matching review queue
    # quality results and care gaps, risk scores and coding gaps: what a PCP acts on (a practice user: its own
    # practice's members only; the network-wide rates and the clinical files stay VIEW_CLINICAL)
    VIEW_GAPS = "view_gaps"
    # value-based performance (issue 9)
    # VIEW_SCORECARDS: practice and PCP scorecards (a practice user: its own, against aggregated peers only)
    # VIEW_BOARD: the board dashboard: revenue vs cost, MLR, solvency criteria, quality trajectory (aggregates)
    # VIEW_GOVERNANCE / EDIT_GOVERNANCE: board and committees, meetings, motions, votes, minutes (editing: the
    # association's secretary, i.e. the administrator)
    VIEW_SCORECARDS = "view_scorecards"
    VIEW_BOARD = "view_board"
    VIEW_GOVERNANCE = "view_governance"
    EDIT_GOVERNANCE = "edit_governance"


_STAFF_READ = {Perm.VIEW_NETWORK, Perm.VIEW_MEMBERS}
# Whoever edits the network must not also be able to redirect a practice's payments: bank details are
# read in clear and changed by finance only, never by the administrator.
_BANK = {Perm.VIEW_BANK, Perm.EDIT_BANK}
# Moving money (runs, approvals, payments, journal entries) is finance's alone, for the same reason.
_MONEY = {Perm.EDIT_FINANCE}
# Fee-for-service offers and each practice's answers are the messenger's and that practice's alone: not the
# administrator's, finance's, the board's or the auditor's (antitrust: the messenger-model firewall, ADR 0012).
_OFFERS = {Perm.VIEW_OFFERS, Perm.CONVEY_OFFERS, Perm.RESPOND_OFFERS}
# Clinical decisions on requests are clinicians' alone: only a physician may deny or modify (DECIDE_UM), and
# neither the administrator nor the auditor reviews or decides requests.
_CLINICAL = {Perm.REVIEW_UM, Perm.DECIDE_UM}

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.IPA_ADMIN: frozenset(set(Perm) - _BANK - _MONEY - _OFFERS - _CLINICAL),
    Role.OPERATIONS: frozenset(
        _STAFF_READ
        | {Perm.EDIT_NETWORK, Perm.VIEW_CONTRACTS, Perm.EDIT_MEMBERS, Perm.VIEW_CLAIMS, Perm.EDIT_CLAIMS}
        | {Perm.VIEW_UM, Perm.SUBMIT_UM, Perm.VIEW_CLINICAL, Perm.EDIT_CLINICAL, Perm.VIEW_GAPS}
        | {Perm.VIEW_SCORECARDS}
    ),
    Role.FINANCE: frozenset(
        _STAFF_READ
        | _BANK
        | _MONEY
        | {Perm.VIEW_CONTRACTS, Perm.EDIT_CONTRACTS, Perm.VIEW_FINANCE, Perm.VIEW_CLAIMS, Perm.EDIT_CLAIMS}
        | {Perm.VIEW_SCORECARDS, Perm.VIEW_BOARD}
    ),
    Role.CREDENTIALING: frozenset(
        _STAFF_READ | {Perm.EDIT_NETWORK, Perm.VIEW_CREDENTIALING, Perm.EDIT_CREDENTIALING}
    ),
    Role.UM_NURSE: frozenset(_STAFF_READ | {Perm.VIEW_UM, Perm.SUBMIT_UM, Perm.REVIEW_UM}),
    Role.MEDICAL_DIRECTOR: frozenset(
        _STAFF_READ | {Perm.VIEW_UM, Perm.SUBMIT_UM, Perm.REVIEW_UM, Perm.DECIDE_UM}
    ),
    Role.QUALITY: frozenset(
        _STAFF_READ
        | {Perm.VIEW_UM, Perm.VIEW_CLINICAL, Perm.EDIT_CLINICAL, Perm.VIEW_GAPS, Perm.VIEW_SCORECARDS}
    ),
    Role.MESSENGER: frozenset({Perm.VIEW_NETWORK, Perm.VIEW_CONTRACTS, Perm.VIEW_OFFERS, Perm.CONVEY_OFFERS}),
    # claims: their own practice's only (the claims selectors scope by billing practice or TIN)
    Role.PRACTICE_USER: frozenset(
        {
            Perm.VIEW_NETWORK,
            Perm.VIEW_MEMBERS,
            Perm.VIEW_CLAIMS,
            Perm.VIEW_OFFERS,
            Perm.RESPOND_OFFERS,
            Perm.VIEW_UM,
            Perm.SUBMIT_UM,
            Perm.VIEW_GAPS,
            Perm.VIEW_SCORECARDS,
            Perm.VIEW_GOVERNANCE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Perm.VIEW_NETWORK,
            Perm.VIEW_MEMBERS,
            Perm.VIEW_CONTRACTS,
            Perm.VIEW_AUDIT,
            Perm.VIEW_FINANCE,
            Perm.VIEW_CLAIMS,
            Perm.VIEW_CREDENTIALING,
            Perm.VIEW_UM,
            Perm.VIEW_CLINICAL,
            Perm.VIEW_GAPS,
            Perm.VIEW_SCORECARDS,
            Perm.VIEW_BOARD,
            Perm.VIEW_GOVERNANCE,
        }
    ),
    # the board: aggregates and governance only. Never fee-for-service rates or messenger answers (no
    # VIEW_CONTRACTS, no VIEW_OFFERS: ADR 0012), never member-level data (no VIEW_MEMBERS).
    Role.BOARD: frozenset({Perm.VIEW_NETWORK, Perm.VIEW_BOARD, Perm.VIEW_GOVERNANCE}),
}


class Actor(Protocol):
    """What the kernel needs to know about whoever acts: the user model satisfies it."""

    @property
    def pk(self) -> object: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def practice_id(self) -> int | None: ...


def has_perm(actor: Actor, perm: Perm) -> bool:
    try:
        role = Role(actor.role)
    except ValueError:
        return False
    return perm in ROLE_PERMS[role]


def is_practice_scoped(actor: Actor) -> bool:
    """True when everything this actor reads must be limited to one practice."""
    return actor.role == Role.PRACTICE_USER


def sees_adt_notifications(actor: Actor) -> bool:
    """ADT notifications (admissions, discharges, ED visits of members): staff with VIEW_CLINICAL, or a practice
    user bound to a practice (its own members' only; ADR 0017). Here, beside the roles, so that the dashboard
    can offer the clinical app's card without importing the app."""
    if is_practice_scoped(actor):
        return has_perm(actor, Perm.VIEW_MEMBERS) and actor.practice_id is not None
    return has_perm(actor, Perm.VIEW_CLINICAL)


def scoped_practice_id(actor: Actor) -> int:
    """The practice a practice-scoped actor is bound to. A practice user without one sees nothing."""
    if actor.practice_id is None:
        raise PermissionDenied("practice user is not bound to a practice")
    return actor.practice_id


def require(actor: Actor, perm: Perm) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied(f"role {actor.role!r} lacks {perm.value!r}")
