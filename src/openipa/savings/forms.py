"""The forms of the savings pages that write terms and formulas: what a finance user types, turned into the
same data a terms or formula JSON file gives the command line (``openipa savings add-terms`` /
``add-formula``), so a page and the CLI create exactly the same rows through the same services.

A field left empty is left out of the data, so the service applies its defaults as it does for a file that
omits the key (an MSSP track's rates, a zero MSR, an open-ended version)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from openipa.contracts.models import Contract, LineOfBusiness
from openipa.savings import terms_data
from openipa.savings.engine import distribution as dist_engine
from openipa.savings.models import SavingsTerm
from openipa.savings.services import END_PREVIOUS_LABEL
from openipa.ui.forms import DateInput

POOL_ROWS = 4


def _percent(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, help_text=help_text)


def _end_previous(what: str) -> forms.BooleanField:
    return forms.BooleanField(
        required=False, label=END_PREVIOUS_LABEL,
        help_text=f"The version of {what} in force on the new start day ends the day before (as --end-previous). "
        "Refused when a settlement or forecast used it for a later day.",
    )  # fmt: skip


def _track_choices() -> list[tuple[str, str]]:
    names = sorted({t.track for t in terms_data.tracks()})
    return [("", "None (payer deal, or rates given below)"), *[(n, n.replace("_", " ")) for n in names]]


def _table_choices() -> list[tuple[str, str]]:
    names = sorted({t.name for t in terms_data.msr_tables()})
    return [("", "None"), *[(n, n) for n in names]]


class TermForm(forms.Form):
    """Every field ``services.term_create`` takes, grouped as docs/shared-savings.md describes them."""

    contract = forms.ModelChoiceField(queryset=Contract.objects.none(), label="Contract")
    kind = forms.ChoiceField(choices=SavingsTerm.Kind.choices, label="Kind")
    name = forms.CharField(max_length=200, label="Name", help_text="As the contract calls these terms.")
    track = forms.ChoiceField(
        choices=(), required=False, label="MSSP track",
        help_text="MSSP-style only: rates left empty below come from the track (data/mssp.json).",
    )  # fmt: skip
    line_of_business = forms.ChoiceField(
        choices=[("", "Every product of the payer"), *LineOfBusiness.choices], required=False,
        label="Line of business", help_text="Only members in products of this line of business count.",
    )  # fmt: skip
    valid_from = forms.DateField(widget=DateInput, label="In force from")
    valid_to = forms.DateField(
        widget=DateInput, required=False, label="In force to",
        help_text="Empty: open-ended. Versions of one contract never overlap.",
    )  # fmt: skip
    end_previous = _end_previous("this contract's terms")

    benchmark_basis = forms.ChoiceField(
        choices=SavingsTerm.Basis.choices, label="Benchmark basis",
        help_text="MSSP-style terms: per assigned beneficiary-year.",
    )  # fmt: skip
    benchmark_amount = forms.DecimalField(
        required=False, label="Benchmark amount ($)",
        help_text="PMPM, or per beneficiary-year; not used with a target MLR.",
    )  # fmt: skip
    target_mlr_percent = _percent("Target MLR (%)", "Target MLR basis: benchmark = revenue x this percent.")
    risk_adjust = forms.BooleanField(
        required=False, label="Risk adjust the benchmark", help_text="x mean RAF / reference RAF."
    )
    reference_raf = forms.DecimalField(required=False, label="Reference RAF", help_text="Empty: 1.000.")

    msr_source = forms.ChoiceField(
        choices=SavingsTerm.MsrSource.choices, initial=SavingsTerm.MsrSource.FIXED, label="MSR from"
    )
    msr_percent = _percent("Minimum savings rate (%)", "A fixed percent of the benchmark; empty: 0.")
    msr_table = forms.ChoiceField(
        choices=(), required=False, label="MSR table",
        help_text="By assigned beneficiaries (42 CFR 425.604(b)), interpolated inside a band.",
    )  # fmt: skip

    first_dollar = forms.BooleanField(
        required=False, initial=True, label="Share from the first dollar",
        help_text="Unticked: only the savings above the MSR are shared.",
    )  # fmt: skip
    sharing_percent = _percent("Sharing rate (%)", "Empty with a track: the track's rate.")
    savings_cap_percent = _percent(
        "Savings cap (% of benchmark)", "Performance payment limit; empty with a track: the track's."
    )

    quality_min_score = _percent("Minimum quality score (%)", "A gate: below it nothing is earned.")
    quality_scale = forms.CharField(
        required=False, label="Quality sliding scale", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One step a line: score, percent of the share earned (e.g. 60, 50).",
    )  # fmt: skip
    quality_standard = forms.CharField(max_length=200, required=False, label="Quality standard as written")

    two_sided = forms.ChoiceField(
        choices=[("", "As the track says (otherwise one-sided)"), ("true", "Two-sided: losses are shared"),
                 ("false", "One-sided: no loss is shared")],
        required=False, label="Losses",
    )  # fmt: skip
    mlr_percent = _percent("Minimum loss rate (%)", "Empty: 0.")
    loss_sharing_percent = _percent("Loss sharing rate (%)", "Empty with a track: the track's.")
    loss_sharing_floor_percent = _percent(
        "Loss sharing floor (%)", "With a ceiling: loss rate = 100% - final sharing rate, within them."
    )
    loss_sharing_ceiling_percent = _percent("Loss sharing ceiling (%)")
    loss_cap_percent = _percent("Loss cap (% of benchmark)")
    loss_cap_revenue_percent = _percent(
        "Loss cap (% of ACO participant revenue)", "At most the benchmark cap (MSSP BASIC levels C-E)."
    )

    ibnr_completion = forms.BooleanField(
        required=False, initial=True, label="Complete paid claims with IBNR",
        help_text="The latest approved IBNR estimate's completion factors.",
    )  # fmt: skip

    GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("The terms", ("contract", "kind", "name", "track", "line_of_business", "valid_from", "valid_to",
                       "end_previous")),
        ("Benchmark", ("benchmark_basis", "benchmark_amount", "target_mlr_percent", "risk_adjust", "reference_raf")),
        ("Minimum savings rate", ("msr_source", "msr_percent", "msr_table")),
        ("Sharing and the savings cap", ("first_dollar", "sharing_percent", "savings_cap_percent")),
        ("Quality", ("quality_min_score", "quality_scale", "quality_standard")),
        ("Losses", ("two_sided", "mlr_percent", "loss_sharing_percent", "loss_sharing_floor_percent",
                    "loss_sharing_ceiling_percent", "loss_cap_percent", "loss_cap_revenue_percent")),
        ("Claims", ("ibnr_completion",)),
    )  # fmt: skip

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contract = self.fields["contract"]
        assert isinstance(contract, forms.ModelChoiceField)
        contract.queryset = contracts
        track = self.fields["track"]
        table = self.fields["msr_table"]
        assert isinstance(track, forms.ChoiceField)
        assert isinstance(table, forms.ChoiceField)
        track.choices = _track_choices()
        table.choices = _table_choices()

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def clean_quality_scale(self) -> list[list[str]]:
        steps: list[list[str]] = []
        for number, line in enumerate(str(self.cleaned_data.get("quality_scale") or "").splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace(";", ",").split(",")]
            try:
                if len(parts) != 2:
                    raise ValueError
                score, percent = (Decimal(p) for p in parts)
                if not (score.is_finite() and percent.is_finite()):
                    raise ValueError
            except (ValueError, ArithmeticError):
                raise forms.ValidationError(
                    f"line {number}: write a score and a percent, e.g. 60, 50"
                ) from None
            steps.append([parts[0], parts[1]])
        return steps

    def term_data(self) -> dict[str, Any]:
        """The cleaned form as a terms file would give it to ``term_create`` (empty fields left out)."""
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in ("contract", "end_previous"):
                continue
            if name == "two_sided":
                if value:
                    data[name] = value == "true"
                continue
            if isinstance(value, Decimal):
                data[name] = str(value)
            elif isinstance(value, bool | dt.date | list):
                if value or isinstance(value, bool):
                    data[name] = value
            elif value not in (None, ""):
                data[name] = value
        return data


class FormulaForm(forms.Form):
    """A new version of a distribution formula: off-the-top percents, pools with their keys and weights."""

    name = forms.CharField(
        max_length=80, label="Formula name", help_text="The same name makes the next version of that formula."
    )
    reserve_percent = _percent("IPA reserve (%)", "Taken off the top; empty: 0.")
    admin_fee_percent = _percent("Administrative fee (%)", "Taken off the top; empty: 0.")
    valid_from = forms.DateField(widget=DateInput, label="In force from")
    valid_to = forms.DateField(
        widget=DateInput, required=False, label="In force to",
        help_text="Empty: open-ended. Versions of one formula never overlap.",
    )  # fmt: skip
    end_previous = _end_previous("this formula")

    KEY_LABELS = {
        dist_engine.MEMBER_MONTHS: "Member-months",
        dist_engine.QUALITY: "Quality (score x member-months)",
        dist_engine.EFFICIENCY: "Efficiency (below the practice's share of the benchmark)",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keys = [("", "(no pool)"), *[(k, self.KEY_LABELS.get(k, k)) for k in dist_engine.KEYS]]
        for row in range(1, POOL_ROWS + 1):
            self.fields[f"pool_{row}_key"] = forms.ChoiceField(
                choices=keys, required=False, label=f"Pool {row}: key",
                help_text="How the pool is split across practices." if row == 1 else "",
            )  # fmt: skip
            self.fields[f"pool_{row}_percent"] = _percent(
                f"Pool {row}: percent", "Of what is left after the reserve and the fee; pools sum to 100."
                if row == 1 else "",
            )  # fmt: skip

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        pools = [self[f"pool_{row}_{part}"] for row in range(1, POOL_ROWS + 1) for part in ("key", "percent")]
        return [
            ("The formula", [self["name"], self["valid_from"], self["valid_to"], self["end_previous"]]),
            ("Off the top", [self["reserve_percent"], self["admin_fee_percent"]]),
            ("Pools", pools),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for row in range(1, POOL_ROWS + 1):
            key, percent = cleaned.get(f"pool_{row}_key"), cleaned.get(f"pool_{row}_percent")
            if key and percent is None and f"pool_{row}_percent" not in self.errors:
                self.add_error(f"pool_{row}_percent", "give the pool's percent")
            if not key and percent is not None:
                self.add_error(f"pool_{row}_key", "choose the pool's key")
        return cleaned

    def formula_data(self) -> dict[str, Any]:
        """The cleaned form as a formula file would give it to ``formula_create``."""
        d = self.cleaned_data
        data: dict[str, Any] = {"name": d["name"], "valid_from": d["valid_from"], "pools": []}
        for name in ("reserve_percent", "admin_fee_percent"):
            if d.get(name) is not None:
                data[name] = str(d[name])
        if d.get("valid_to"):
            data["valid_to"] = d["valid_to"]
        for row in range(1, POOL_ROWS + 1):
            if d.get(f"pool_{row}_key"):
                data["pools"].append({"key": d[f"pool_{row}_key"], "percent": str(d[f"pool_{row}_percent"])})
        return data


def formula_initial(formula: Any) -> dict[str, Any]:
    """A form's initial values from an existing version (to write the next one)."""
    initial: dict[str, Any] = {
        "name": formula.name,
        "reserve_percent": formula.reserve_percent,
        "admin_fee_percent": formula.admin_fee_percent,
    }
    for row, pool in enumerate(formula.pools[:POOL_ROWS], 1):
        initial[f"pool_{row}_key"] = pool["key"]
        initial[f"pool_{row}_percent"] = pool["percent"]
    return initial
