"""Building frozen records fast, for the readers' hot paths (read_834, read_837)."""

from __future__ import annotations

from dataclasses import fields, make_dataclass
from typing import Any


def builder(cls: type) -> Any:
    """A plain (not frozen) slots class with the fields of the frozen dataclass ``cls``, in order.

    A frozen dataclass sets each field through ``object.__setattr__``: for MemberRecord's 26 fields that
    was a quarter of the time ``read_834`` spent per member. The mapper fills the plain twin and then
    gives the instance its real class (the slots are identical, so CPython allows the ``__class__``
    assignment): the result is a true, frozen ``cls`` instance, equal to one built by ``cls(...)``.
    """
    names = [f.name for f in fields(cls)]
    twin = make_dataclass(
        f"_{cls.__name__}Builder", names, slots=True, eq=False, repr=False, match_args=False
    )
    probe = twin(*names)
    probe.__class__ = cls  # fails at import time, not in the mapper, if the layouts ever differ
    return twin


class NamedEntity:
    """What an NM1 entity (a payer, a provider, a UMO) shows: its name as printed and its NPI. Mixed into the
    frozen records of the 270 and 278 readers, which hold the NM1 elements."""

    __slots__ = ()
    entity_type: str
    first_name: str
    middle_name: str
    last_name: str
    id_qualifier: str
    id: str

    @property
    def name(self) -> str:
        if self.entity_type == "1":
            return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)
        return self.last_name

    @property
    def npi(self) -> str:
        """NM109 when NM108 is XX (an NPI), else empty."""
        return self.id if self.id_qualifier == "XX" else ""
