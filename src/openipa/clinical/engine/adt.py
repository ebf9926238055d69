"""Which HL7 ADT events raise a notification to the member's PCP practice, and when its follow-up is due.

Pure: no Django, no I/O except reading the shipped rules file (`openipa/clinical/data/adt_notifications.json`,
effective-dated by the event's day). A rule names a trigger (``A01`` admit, ``A03`` discharge, ``A04``
registration) and the PV1-2 patient classes it applies to; its follow-up (a TCM visit after an inpatient
discharge, a visit after an ED visit) is due a number of days after the admit or the discharge day. The
version's ``updates`` triggers (``A08``) raise nothing: they update what the visit already raised.

Public API::

    rules = load_rules()
    decision = rules.decide("A03", "I", admit=date(2026, 5, 1), discharge=date(2026, 5, 4), fallback=day)
    decision.follow_up_due  # 2026-05-11
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

DATA_FILE = "adt_notifications.json"


class RulesError(ValueError):
    """The rules file is not usable: the message names the file and the field."""


@dataclass(frozen=True)
class FollowUp:
    start: str  # "admit" or "discharge"
    days: int
    what: str


@dataclass(frozen=True)
class Rule:
    event: str
    patient_classes: frozenset[str]
    label: str
    follow_up: FollowUp | None


@dataclass(frozen=True)
class Version:
    version: str
    valid_from: dt.date
    valid_to: dt.date | None
    updates: frozenset[str]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Decision:
    """What an ADT event raises: the rule's label, the event's day and the follow-up (None when none)."""

    label: str
    event_date: dt.date
    follow_up_due: dt.date | None
    follow_up_what: str


def event_day(event: str, admit: dt.date | None, discharge: dt.date | None, fallback: dt.date) -> dt.date:
    """The day of the event: a discharge's is the discharge day, the others' the admit day; the message's
    recorded day (EVN-2) or the import's when the message gives neither."""
    if event == "A03" and discharge is not None:
        return discharge
    return admit or discharge or fallback


@dataclass(frozen=True)
class AdtRules:
    versions: tuple[Version, ...]
    name: str = DATA_FILE

    def version_on(self, day: dt.date) -> Version:
        found = [
            v for v in self.versions if v.valid_from <= day and (v.valid_to is None or day <= v.valid_to)
        ]
        if len(found) != 1:
            raise RulesError(f"{self.name}: {len(found)} versions in force on {day.isoformat()} (need one)")
        return found[0]

    def is_update(self, event: str, day: dt.date) -> bool:
        return event in self.version_on(day).updates

    def decide(
        self, event: str, patient_class: str, *, admit: dt.date | None, discharge: dt.date | None,
        fallback: dt.date,
    ) -> Decision | None:  # fmt: skip
        """The notification an event raises under the version in force on its day, or None."""
        day = event_day(event, admit, discharge, fallback)
        for rule in self.version_on(day).rules:
            if rule.event == event and patient_class.upper() in rule.patient_classes:
                due = None
                what = ""
                if rule.follow_up is not None:
                    start = discharge if rule.follow_up.start == "discharge" else admit
                    due = (start or day) + dt.timedelta(days=rule.follow_up.days)
                    what = rule.follow_up.what
                return Decision(rule.label, day, due, what)
        return None


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RulesError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: expected an object")
    event = raw.get("event")
    if event not in ("A01", "A03", "A04"):
        raise RulesError(f"{where}: event: {event!r} is not A01, A03 or A04")
    classes = raw.get("patient_classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c for c in classes):
        raise RulesError(f"{where}: patient_classes: expected a list of PV1-2 codes")
    follow = raw.get("follow_up")
    follow_up = None
    if follow is not None:
        if not isinstance(follow, dict):
            raise RulesError(f"{where}: follow_up: expected an object or null")
        start, days = follow.get("from"), follow.get("days")
        if start not in ("admit", "discharge"):
            raise RulesError(f"{where}: follow_up.from: {start!r} is not admit or discharge")
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
            raise RulesError(f"{where}: follow_up.days: {days!r} is not a number of days (0-365)")
        follow_up = FollowUp(start, days, str(follow.get("what", "")))
    return Rule(event, frozenset(c.upper() for c in classes), str(raw.get("label") or event), follow_up)


def parse_rules(text: str, name: str = DATA_FILE) -> AdtRules:
    """Parse the rules JSON; every error names `name` and the field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise RulesError(f"{name}: line {error.lineno}: {error.msg}") from None
    versions = raw.get("versions") if isinstance(raw, dict) else None
    if not isinstance(versions, list) or not versions:
        raise RulesError(f"{name}: versions: expected a non-empty list")
    parsed: list[Version] = []
    for n, item in enumerate(versions):
        where = f"{name}: versions[{n}]"
        if not isinstance(item, dict):
            raise RulesError(f"{where}: expected an object")
        rules = item.get("rules")
        if not isinstance(rules, list):
            raise RulesError(f"{where}: rules: expected a list")
        updates = item.get("updates", [])
        if not isinstance(updates, list):
            raise RulesError(f"{where}: updates: expected a list of triggers")
        valid_to = item.get("valid_to")
        parsed.append(
            Version(
                version=str(item.get("version", n)),
                valid_from=_date(item.get("valid_from"), f"{where}: valid_from"),
                valid_to=None if valid_to is None else _date(valid_to, f"{where}: valid_to"),
                updates=frozenset(str(u) for u in updates),
                rules=tuple(_rule(r, f"{where}: rules[{i}]") for i, r in enumerate(rules)),
            )
        )
    _check_overlaps(parsed, name)
    return AdtRules(tuple(parsed), name)


def _check_overlaps(versions: Sequence[Version], name: str) -> None:
    ordered = sorted(versions, key=lambda v: v.valid_from)
    for before, after in itertools.pairwise(ordered):
        if before.valid_to is None or before.valid_to >= after.valid_from:
            raise RulesError(f"{name}: versions {before.version} and {after.version} overlap")


def load_rules() -> AdtRules:
    """The shipped rules."""
    text = (
        resources.files("openipa.clinical").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    )
    return parse_rules(text)
