"""The MSSP reference data shipped with the app (data/mssp.json): the one-sided minimum savings rate table by
number of assigned beneficiaries (bands with a low-end and a high-end MSR), and each track's sharing rate,
performance payment limit, loss sharing and loss caps, effective-dated, each with its source and its
verification status (verified, secondary or unverified: see docs/shared-savings.md)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from openipa.core.dating import pick_in_force
from openipa.savings.engine.settlement import MsrBand

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
    loss_cap_revenue_percent: Decimal | None = None
    loss_sharing_floor_percent: Decimal | None = None
    loss_sharing_ceiling_percent: Decimal | None = None
    status: str = "unverified"
    source: str = ""


@dataclass(frozen=True)
class MsrTable:
    name: str
    valid_from: dt.date
    valid_to: dt.date | None
    bands: tuple[MsrBand, ...]
    status: str = "unverified"


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _percent(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


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
            bands=tuple(
                MsrBand(
                    int(b["from"]),
                    None if b["to"] is None else int(b["to"]),
                    Decimal(b["low_end"]),
                    Decimal(b["high_end"]),
                )
                for b in t["bands"]
            ),
            status=str(t.get("status", "unverified")),
        )
        for t in _data()["msr_tables"]
    ]


def msr_table(name: str, on: dt.date | None = None) -> tuple[MsrBand, ...]:
    """The bands of the table ``name`` in force on ``on`` (default: the latest version); KeyError if none."""
    versions = [t for t in msr_tables() if t.name == name]
    if not versions:
        raise KeyError(f"no MSR table named {name!r}")
    chosen = pick_in_force(versions, on) if on is not None else max(versions, key=lambda t: t.valid_from)
    if chosen is None:
        raise KeyError(f"no version of MSR table {name!r} in force on {on}")
    return chosen.bands


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
            loss_cap_percent=_percent(t["loss_cap_percent"]),
            loss_cap_revenue_percent=_percent(t.get("loss_cap_revenue_percent")),
            loss_sharing_floor_percent=_percent(t.get("loss_sharing_floor_percent")),
            loss_sharing_ceiling_percent=_percent(t.get("loss_sharing_ceiling_percent")),
            status=str(t.get("status", "unverified")),
            source=str(t.get("source", "")),
        )
        for t in _data()["tracks"]
    ]


def track(name: str, on: dt.date) -> Track:
    """The track ``name`` in force on ``on``; KeyError if none."""
    found = pick_in_force([t for t in tracks() if t.track == name], on)
    if found is None:
        raise KeyError(f"no MSSP track {name!r} in force on {on}")
    return found
