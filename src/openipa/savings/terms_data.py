"""The MSSP reference data shipped with the app (data/mssp.json): the one-sided minimum savings rate table by
number of assigned beneficiaries, and each track's sharing rate, performance payment limit and loss sharing,
effective-dated, with their source and verification status."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from openipa.core.dating import pick_in_force
from openipa.savings.engine.settlement import MsrStep

DATA_FILE = Path(__file__).parent / "data" / "mssp.json"


@dataclass(frozen=True)
class Track:
    track: str
    valid_from: dt.date
    valid_to: dt.date | None
    sharing_percent: Decimal
    performance_payment_limit_percent: Decimal
    two_sided: bool
    loss_sharing_percent: Decimal
    loss_cap_percent: Decimal | None


@dataclass(frozen=True)
class MsrTable:
    name: str
    valid_from: dt.date
    valid_to: dt.date | None
    steps: tuple[MsrStep, ...]


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


@cache
def _data() -> dict[str, Any]:
    return dict(json.loads(DATA_FILE.read_text()))


def source() -> tuple[str, str]:
    """(the source cited, its verification status)."""
    return str(_data()["source"]), str(_data()["status"])


def msr_tables() -> list[MsrTable]:
    return [
        MsrTable(
            name=t["name"],
            valid_from=dt.date.fromisoformat(t["valid_from"]),
            valid_to=_date(t["valid_to"]),
            steps=tuple(MsrStep(int(s["from"]), Decimal(s["percent"])) for s in t["steps"]),
        )
        for t in _data()["msr_tables"]
    ]


def msr_table(name: str, on: dt.date | None = None) -> tuple[MsrStep, ...]:
    """The steps of the table ``name`` in force on ``on`` (default: the latest version); KeyError if none."""
    versions = [t for t in msr_tables() if t.name == name]
    if not versions:
        raise KeyError(f"no MSR table named {name!r}")
    chosen = pick_in_force(versions, on) if on is not None else max(versions, key=lambda t: t.valid_from)
    if chosen is None:
        raise KeyError(f"no version of MSR table {name!r} in force on {on}")
    return chosen.steps


def tracks() -> list[Track]:
    return [
        Track(
            track=t["track"],
            valid_from=dt.date.fromisoformat(t["valid_from"]),
            valid_to=_date(t["valid_to"]),
            sharing_percent=Decimal(t["sharing_percent"]),
            performance_payment_limit_percent=Decimal(t["performance_payment_limit_percent"]),
            two_sided=bool(t["two_sided"]),
            loss_sharing_percent=Decimal(t["loss_sharing_percent"]),
            loss_cap_percent=None if t["loss_cap_percent"] is None else Decimal(t["loss_cap_percent"]),
        )
        for t in _data()["tracks"]
    ]


def track(name: str, on: dt.date) -> Track:
    """The track ``name`` in force on ``on``; KeyError if none."""
    found = pick_in_force([t for t in tracks() if t.track == name], on)
    if found is None:
        raise KeyError(f"no MSSP track {name!r} in force on {on}")
    return found
