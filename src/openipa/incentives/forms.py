"""Forms of the incentives pages: preparing a settlement, and a new version of a formula (its fields by kind,
the measures and the withhold tiers as rows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from openipa.contracts.models import Contract
from openipa.core.money import to_cents
from openipa.incentives import engine
from openipa.incentives.models import Kind
from openipa.quality.models import QualityRun
from openipa.ui.forms import DateInput


class PrepareForm(forms.Form):
    contract: forms.ModelChoiceField[Contract] = forms.ModelChoiceField(
        queryset=Contract.objects.none(), empty_label="Choose a contract"
    )
    kind = forms.ChoiceField(choices=Kind.choices)
    period = forms.CharField(max_length=8, help_text="A year (2026) or a quarter (2026Q3)")
    quality_run: forms.ModelChoiceField[QualityRun] = forms.ModelChoiceField(
        queryset=QualityRun.objects.order_by("-as_of", "-pk"), required=False,
        empty_label="The period year's latest run", help_text="Whose scores the quality pool and withhold use",
    )  # fmt: skip
    pool = forms.DecimalField(
        required=False, min_value=Decimal(0), max_digits=14, decimal_places=2,
        label="Quality pool entered (dollars)", help_text="Only to override the formula's pool source",
    )  # fmt: skip

    def __init__(self, data: Any = None) -> None:
        super().__init__(data, prefix="prepare")
        field = self.fields["contract"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Contract.objects.select_related("payer").order_by("number")

    def clean_period(self) -> str:
        try:
            return engine.parse_period(self.cleaned_data["period"]).label
        except engine.FormulaError as exc:
            raise forms.ValidationError(str(exc)) from None

    def quality_run_id(self) -> int | None:
        run = self.cleaned_data.get("quality_run")
        return None if run is None else int(run.pk)

    def pool_cents(self) -> int | None:
        pool = self.cleaned_data.get("pool")
        return None if pool is None else to_cents(pool)


class VersionChoiceForm(forms.Form):
    """Which contract and kind a new version is for (the list page's "New version", by GET)."""

    contract = forms.ModelChoiceField(queryset=Contract.objects.none(), empty_label="Choose a contract")
    kind = forms.ChoiceField(choices=Kind.choices)

    def __init__(self, data: Any = None, *, contracts: Any) -> None:
        super().__init__(data)
        field = self.fields["contract"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = contracts


# -- a new formula version -----------------------------------------------------------------------------------


def _percent(label: str, *, required: bool = True, initial: Decimal | None = None, help_text: str = ""
             ) -> forms.DecimalField:  # fmt: skip
    """A number of percent or points: 0 to 100, at most three decimals."""
    return forms.DecimalField(label=label, required=required, initial=initial, help_text=help_text, max_digits=7,
                              decimal_places=3, min_value=Decimal(0), max_value=Decimal(100))  # fmt: skip


def _dollars(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=False, max_digits=14, decimal_places=2, min_value=Decimal(0)
    )


SCORING_FIELDS = ("scoring", "min_denominator")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.QUALITY: (*SCORING_FIELDS, "threshold", "pool_source", "fixed_pool", "basis", "unearned"),
    Kind.WITHHOLD: (*SCORING_FIELDS, "unscored_percent"),
    Kind.RISK_POOL: ("service_categories", "surplus_share_percent", "surplus_basis", "deficit_share_percent",
                     "cap_kind", "cap_percent", "cap_amount"),
}  # fmt: skip
FORM_NAMES = {"fixed_pool_cents": "fixed_pool", "cap_cents": "cap_amount"}
"""A formula field the form shows in dollars, by the name of its form field."""


def _text(number: Decimal) -> str:
    """A Decimal as the formula's text: 60.000 -> "60", 0.700 -> "0.7" (never an exponent)."""
    text = format(number.normalize(), "f")
    return text


def _choices(values: tuple[str, ...], labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(v, labels.get(v, v.replace("_", " "))) for v in values]


class FormulaForm(forms.Form):
    """A new version of one contract's formula of one kind: its dates and name, and the fields of its kind
    (the others are removed). Amounts are dollars; percents and scores are numbers of points or percent."""

    name = forms.CharField(max_length=200)
    valid_from = forms.DateField(label="In force from", widget=DateInput)
    valid_to = forms.DateField(label="In force through", widget=DateInput, required=False,
                               help_text="Empty: open (until a later version starts).")  # fmt: skip
    end_previous = forms.BooleanField(
        label="End the version in force then on the day before this one starts", required=False, initial=True,
        help_text="Refused when a settlement that is not a draft used it for a period reaching the new start.",
    )  # fmt: skip
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                            help_text="What changed and why (shown with the version).")  # fmt: skip
    scoring = forms.ChoiceField(choices=_choices(engine.SCORINGS, {
        "target": "target: a measure earns its weight when the rate meets the target",
        "stars": "stars: weight x stars / 5 from the year's cut points"}))  # fmt: skip
    min_denominator = forms.IntegerField(label="Minimum denominator", min_value=1, max_value=100_000, initial=1,
                                         help_text="A measure counts for a practice only from this many patients.")  # fmt: skip
    threshold = _percent(
        "Threshold gate (points of 100)", help_text="A practice qualifies at a score at or above it."
    )
    pool_source = forms.ChoiceField(label="Pool source", choices=_choices(engine.QUALITY_SOURCES, {
        "liability": "liability: the quality pool liability's balance on the period's last day",
        "fixed": "fixed: the amount below, from capitation revenue"}))  # fmt: skip
    fixed_pool = _dollars("Fixed pool per period ($)")
    basis = forms.ChoiceField(choices=_choices(engine.QUALITY_BASES, {
        "pool": "pool: the whole pool by score x member-months among those who qualify",
        "slice": "slice: each practice's member-months slice x score / 100"}))  # fmt: skip
    unearned = forms.ChoiceField(label="Unearned money", choices=_choices(engine.UNEARNED, {
        "revenue": "revenue: back to capitation revenue", "carry": "carry: stays in the liability"}))  # fmt: skip
    unscored_percent = _percent("Percent returned to an unscored practice", initial=Decimal(0))
    service_categories = forms.MultipleChoiceField(
        label="Service categories the pool pays for", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every claim line the IPA paid.",
    )  # fmt: skip
    surplus_share_percent = _percent("Surplus shared with the practices (%)")
    surplus_basis = forms.ChoiceField(label="Surplus split by", choices=_choices(engine.SURPLUS_BASES, {
        "member_months": "member-months", "efficiency": "efficiency (funded - cost where positive)"}))  # fmt: skip
    deficit_share_percent = _percent("Deficit charged to the practices (%)", initial=Decimal(0))
    cap_kind = forms.ChoiceField(label="Cap on a practice's deficit charge", choices=_choices(engine.CAP_KINDS, {
        "percent_of_capitation": "a percent of its PCP capitation", "amount": "an amount", "none": "no cap"}))  # fmt: skip
    cap_percent = _percent("Cap (% of PCP capitation)", required=False)
    cap_amount = _dollars("Cap ($ a practice)")

    def __init__(self, data: Any = None, *, kind: str, initial: dict[str, Any] | None = None,
                 categories: list[str] | None = None) -> None:  # fmt: skip
        super().__init__(data, initial=initial)
        self.kind = kind
        keep = {"name", "valid_from", "valid_to", "end_previous", "notes", *KIND_FIELDS[kind]}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "service_categories" in self.fields:
            field = self.fields["service_categories"]
            assert isinstance(field, forms.MultipleChoiceField)
            chosen = (initial or {}).get("service_categories") or []
            field.choices = [(c, c) for c in sorted({*(categories or []), *chosen})]

    def _group(self, *names: str) -> list[forms.BoundField]:
        return [self[name] for name in names if name in self.fields]

    @property
    def version_fields(self) -> list[forms.BoundField]:
        return self._group("name", "valid_from", "valid_to", "end_previous", "notes")

    @property
    def scoring_fields(self) -> list[forms.BoundField]:
        return self._group(*SCORING_FIELDS)

    @property
    def kind_fields(self) -> list[forms.BoundField]:
        """The fields of the kind's own section (the pool, the tiers' default, the risk pool)."""
        return self._group(*(n for n in KIND_FIELDS[self.kind] if n not in SCORING_FIELDS))

    def params(self, measures: list[dict[str, Any]], tiers: list[dict[str, str]]) -> dict[str, Any]:
        """The formula's fields (engine.parse_params checks them) from the cleaned data."""
        d = self.cleaned_data
        if self.kind == Kind.RISK_POOL:
            params: dict[str, Any] = {
                "service_categories": list(d.get("service_categories") or []),
                "surplus_share_percent": _text(d["surplus_share_percent"]),
                "surplus_basis": d["surplus_basis"],
                "deficit_share_percent": _text(d["deficit_share_percent"]),
                "cap_kind": d["cap_kind"],
            }
            if d["cap_kind"] == "percent_of_capitation" and d.get("cap_percent") is not None:
                params["cap_percent"] = _text(d["cap_percent"])
            if d["cap_kind"] == "amount" and d.get("cap_amount") is not None:
                params["cap_cents"] = to_cents(d["cap_amount"])
            return params
        params = {"measures": measures, "scoring": d["scoring"], "min_denominator": d["min_denominator"]}
        if self.kind == Kind.QUALITY:
            params.update(threshold=_text(d["threshold"]), pool_source=d["pool_source"], basis=d["basis"],
                          unearned=d["unearned"])  # fmt: skip
            if d["pool_source"] == "fixed":
                fixed = d.get("fixed_pool")
                params["fixed_pool_cents"] = 0 if fixed is None else to_cents(fixed)
        else:
            params.update(tiers=tiers, unscored_percent=_text(d["unscored_percent"]))
        return params


def initial_from(params: dict[str, Any]) -> dict[str, Any]:
    """A version's fields as the form's initial values (to start a new version from the latest one)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("measures", "tiers"):
            continue
        if key in FORM_NAMES and isinstance(value, int) and not isinstance(value, bool):
            out[FORM_NAMES[key]] = Decimal(value) / 100
        else:
            out[key] = value
    return out


class MeasureRowForm(forms.Form):
    measure = forms.ChoiceField(required=False, label="Measure / rate")
    weight = forms.IntegerField(required=False, min_value=1, max_value=1000, label="Points")
    target = forms.DecimalField(required=False, min_value=Decimal(0), max_value=Decimal(1), max_digits=5,
                                decimal_places=4, label="Target (0-1, empty: the IPA's)")  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("measure") and data.get("weight") is None:
            self.add_error("weight", "Enter the points of the measure.")
        if not data.get("measure") and (data.get("weight") is not None or data.get("target") is not None):
            self.add_error("measure", "Choose the measure these points are for.")
        return data

    def item(self) -> dict[str, Any] | None:
        d = self.cleaned_data
        if not d.get("measure"):
            return None
        measure, _sep, rate = str(d["measure"]).partition("|")
        item: dict[str, Any] = {"measure": measure, "rate": rate or measure, "weight": d["weight"]}
        if d.get("target") is not None:
            item["target"] = _text(d["target"])
        return item


class TierRowForm(forms.Form):
    min_score = _percent("Score at least (points)", required=False)
    percent = _percent("Percent of the withhold returned", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("min_score") is None) != (data.get("percent") is None):
            self.add_error(None, "Enter both the score and the percent, or neither.")
        return data

    def item(self) -> dict[str, str] | None:
        d = self.cleaned_data
        if d.get("min_score") is None or d.get("percent") is None:
            return None
        return {"min_score": _text(d["min_score"]), "percent": _text(d["percent"])}


MeasureFormSet = forms.formset_factory(MeasureRowForm, extra=0, max_num=40, absolute_max=40)
TierFormSet = forms.formset_factory(TierRowForm, extra=0, max_num=20, absolute_max=20)
BLANK_ROWS = 3


def measure_rows(data: Any, params: dict[str, Any], choices: list[tuple[str, str]]) -> Any:
    """The measures' rows: the starting version's measures and three empty rows; every row offers the measures
    with a target in the quality data (and any the starting version names)."""
    items = [m for m in params.get("measures") or [] if isinstance(m, dict)]
    initial: list[dict[str, Any]] = [
        {"measure": f"{m.get('measure')}|{m.get('rate', m.get('measure'))}", "weight": m.get("weight"),
         "target": m.get("target")} for m in items]  # fmt: skip
    known = dict(choices)
    for item in initial:
        value = str(item["measure"])
        known.setdefault(value, value.replace("|", " / "))
    formset = MeasureFormSet(data, initial=None if data is not None else initial + [{}] * BLANK_ROWS,
                             prefix="measure")  # fmt: skip
    for row in formset:
        field = row.fields["measure"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *sorted(known.items())]
    return formset


def tier_rows(data: Any, params: dict[str, Any]) -> Any:
    items = [t for t in params.get("tiers") or [] if isinstance(t, dict)]
    initial = [{"min_score": t.get("min_score"), "percent": t.get("percent")} for t in items]
    return TierFormSet(data, initial=None if data is not None else initial + [{}] * BLANK_ROWS, prefix="tier")
