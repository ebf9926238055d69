"""Forms of the roster and eligibility pages. They parse and type the input; the rules live in the services
(`import_roster`, `roster_profile_save`), whose ValidationFailed is put back next to the fields.

Choices come from the acting user's selectors, so nobody is offered what they may not pick.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Payer, Product
from openipa.core.errors import ValidationFailed
from openipa.core.months import Month
from openipa.core.roles import Actor, is_practice_scoped
from openipa.edi.csvroster import REQUIRED_TARGETS, TARGETS, CsvProfile
from openipa.membership import selectors
from openipa.membership.models import RosterChange, RosterImport, RosterProfile
from openipa.network import selectors as network_selectors
from openipa.ui.forms import DateInput, SearchInput, apply_errors, scope_payer_and_practice, valid_data


def _blank(label: str, choices: Any) -> list[tuple[str, str]]:
    return [("", label), *[(str(k), str(v)) for k, v in choices]]


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class MonthInput(forms.TextInput):
    input_type = "month"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}", **(attrs or {})})


class MonthField(forms.CharField):
    """A calendar month written YYYY-MM (what a browser's month input sends)."""

    widget = MonthInput

    def to_python(self, value: Any) -> Month | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return Month.parse(text)
        except ValueError:
            raise forms.ValidationError("Write the month as YYYY-MM, e.g. 2026-03.") from None


# ------------------------------------------------------------------------------------------- uploads


class RosterUploadForm(forms.Form):
    FORMATS = [("", "Detect (X12 when the file starts with ISA, else the payer's usual format)")] + [
        (value, label) for value, label in RosterProfile.Format.choices
    ]

    payer: forms.ModelChoiceField[Payer] = forms.ModelChoiceField(
        queryset=Payer.objects.none(), empty_label="Choose a payer"
    )
    file = forms.FileField(
        label="Roster file", help_text="An X12 834 or a CSV roster as the payer sent it, any size."
    )
    format = forms.ChoiceField(choices=FORMATS, required=False)

    def __init__(self, data: Any = None, files: Any = None, *, actor: Actor) -> None:
        super().__init__(data, files)
        payers = cast("forms.ModelChoiceField[Any]", self.fields["payer"])
        payers.queryset = selectors.roster_payers(actor)

    @property
    def filename(self) -> str:
        upload = self.files.get("file")
        return str(getattr(upload, "name", "") or "roster")

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


# ------------------------------------------------------------------------------------------- filters


class RosterImportFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=100,
        widget=SearchInput,
        help_text="File name (part), SHA-256 or who imported it.",
    )
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=_blank("Any status", RosterImport.Status.choices))

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        payers = selectors.roster_payers(actor)
        _choices(self, "payer").choices = _blank("Any payer", ((p.pk, p.name) for p in payers))

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {"q": data.get("q") or "", "payer_id": data.get("payer"), "status": data.get("status") or ""}


class RosterChangeFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=_blank("Any change", RosterChange.Kind.choices))
    retro = forms.ChoiceField(
        required=False,
        label="Retro",
        choices=[
            ("", "Retro or not"),
            ("retro", "Retro only"),
            ("outside", "Outside the retro window only"),
        ],
    )

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        retro = data.get("retro") or ""
        return {
            "kind": data.get("kind") or "",
            "retro_only": retro == "retro",
            "outside_only": retro == "outside",
        }


class MemberMonthsForm(forms.Form):
    """Group, month range and (for staff) payer and practice. Missing or bad values fall back to the
    defaults: by payer, the twelve months up to this one."""

    group_by = forms.ChoiceField(
        label="By", required=False, choices=list(selectors.MEMBER_MONTH_GROUPS.items())
    )
    month_from = MonthField(label="From month", required=False)
    month_to = MonthField(label="To month", required=False)
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, *, actor: Actor, today: dt.date) -> None:
        # The defaults are shown in the fields, not only applied: the page says which months it counts.
        data = data.copy() if data is not None else {}
        this_month = Month.of(today)
        data.setdefault("group_by", "payer")
        data.setdefault("month_to", str(this_month))
        data.setdefault("month_from", str(this_month - 11))
        super().__init__(data)
        self.today = today
        scope_payer_and_practice(self, actor)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and end < start:
            self.add_error("month_to", "The last month is before the first.")
        elif start and end and end.index - start.index >= selectors.MAX_REPORT_MONTHS:
            self.add_error("month_to", f"Choose at most {selectors.MAX_REPORT_MONTHS} months.")
        return data

    def report_args(self) -> dict[str, Any]:
        """Keyword arguments for `member_months_report`, from the valid fields and the defaults."""
        data = valid_data(self)
        last = data.get("month_to") or Month.of(self.today)
        first = data.get("month_from") or (last - 11)
        if last < first or last.index - first.index >= selectors.MAX_REPORT_MONTHS:
            last = Month.of(self.today)
            first = last - 11
        return {
            "group_by": data.get("group_by") or "payer",
            "first": first,
            "last": last,
            "payer_id": data.get("payer"),
            "practice_id": data.get("practice"),
        }


class PanelFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", max_length=100, widget=SearchInput, help_text="PCP name or NPI."
    )
    on = forms.DateField(required=False, label="Panel on", widget=DateInput)
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    over_limit = forms.BooleanField(required=False, label="Over the limit only")

    def __init__(self, data: Any, *, actor: Actor, today: dt.date) -> None:
        data = data.copy() if data is not None else {}
        data.setdefault("on", today.isoformat())
        super().__init__(data)
        self.today = today
        if is_practice_scoped(actor):
            del self.fields["practice"]
        else:
            practices = network_selectors.practice_list(actor)
            _choices(self, "practice").choices = _blank(
                "Any practice", ((p.pk, p.legal_name) for p in practices)
            )

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "on": data.get("on") or self.today,
            "practice_id": data.get("practice"),
            "q": data.get("q") or "",
            "over_limit": bool(data.get("over_limit")),
        }


# ------------------------------------------------------------------------------------ roster profile


def _pairs_text(values: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in values.items())


def _parse_pairs(text: str, what: str) -> dict[str, str]:
    """`KEY=VALUE` per line (blank lines and lines starting with # skipped) into a dict; a bad line is a
    form error naming its line."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip() or not value.strip():
            problems.append(f"Line {number}: write {what} (found {stripped[:40]!r}).")
            continue
        if key.strip() in out:
            problems.append(f"Line {number}: {key.strip()} is listed twice.")
            continue
        out[key.strip()] = value.strip()
    if problems:
        raise forms.ValidationError(problems)
    return out


class ProductChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Product) -> str:
        return f"{obj.code} · {obj.name}"


CSV_SETTINGS = (
    "date_format",
    "delimiter",
    "encoding",
    "insurance_line",
    "sex_values",
    "maintenance_values",
    "relationship_values",
)


class RosterProfileForm(forms.Form):
    """A payer's roster profile: the reading rules, the plan map, and one input per roster field of the CSV
    column mapping (`col_<field>`), with the CSV settings (`csv_<setting>`)."""

    default_format = forms.ChoiceField(choices=RosterProfile.Format.choices)
    full_file_terms_missing = forms.BooleanField(
        required=False,
        label="A full file terms missing members",
        help_text="On a full (030 audit) file, members not in the file lose coverage the day before the "
        "file's effective date.",
    )
    insurance_lines = forms.CharField(
        max_length=100,
        help_text="HD03 insurance line codes the IPA is at risk for, comma-separated (e.g. HLT, HMO). "
        "Other lines (dental, vision ...) are ignored.",
    )
    plan_map = forms.CharField(
        required=False,
        label="Plan map",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "mono"}),
        help_text="One line per plan code as sent in the file (HD04 or the CSV plan column): CODE=PRODUCT, "
        "e.g. H1234-001=MAHMO. A plan code that already is a product code needs no line.",
    )
    default_product = ProductChoiceField(
        queryset=Product.objects.none(),
        required=False,
        empty_label="None: a coverage line without a plan is an error",
        help_text="Product for coverage lines that name no plan.",
    )
    csv_date_format = forms.CharField(
        label="Date format", max_length=40, initial="%Y-%m-%d", help_text="e.g. %Y-%m-%d or %m/%d/%Y."
    )
    csv_delimiter = forms.CharField(
        label="Delimiter",
        max_length=3,
        initial=",",
        strip=False,
        help_text="One character; write TAB for a tab.",
    )
    csv_encoding = forms.CharField(label="Encoding", max_length=40, initial="utf-8-sig")
    csv_full_file = forms.BooleanField(
        label="CSV files are full files",
        required=False,
        initial=True,
        help_text="A row without a maintenance value is an audit (030) record of a full file; otherwise "
        "a change (001).",
    )
    csv_insurance_line = forms.CharField(
        label="Insurance line of a row", max_length=3, initial="HLT", help_text="HD03 of each row's coverage."
    )
    csv_sex_values = forms.CharField(
        label="Sex values",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text="VALUE=CODE per line, e.g. Female=F. Codes F, M, U need no line.",
    )
    csv_maintenance_values = forms.CharField(
        label="Maintenance values",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text="VALUE=INS03 code per line, e.g. NEW=021, TERM=024, CHG=001.",
    )
    csv_relationship_values = forms.CharField(
        label="Relationship values",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text="VALUE=INS02 code per line, e.g. SELF=18.",
    )

    def __init__(
        self, data: Any = None, *, actor: Actor, payer: Payer, profile: RosterProfile, disabled: bool = False
    ) -> None:
        super().__init__(data, initial=self._initial(profile))
        self.payer = payer
        products = cast("forms.ModelChoiceField[Any]", self.fields["default_product"])
        products.queryset = contract_selectors.product_list(actor, payer_id=payer.pk)
        for target, meaning in TARGETS.items():
            self.fields[f"col_{target}"] = forms.CharField(
                label=target, required=False, max_length=100, help_text=f"Column header of the {meaning}."
            )
            self.fields[f"col_{target}"].widget.attrs["aria-describedby"] = f"id_col_{target}_helptext"
        if disabled:
            for field in self.fields.values():
                field.disabled = True

    @staticmethod
    def _initial(profile: RosterProfile) -> dict[str, Any]:
        csv = (
            CsvProfile.from_dict(profile.csv_profile or {})
            if _readable(profile.csv_profile)
            else CsvProfile()
        )
        initial: dict[str, Any] = {
            "default_format": profile.default_format,
            "full_file_terms_missing": profile.full_file_terms_missing,
            "insurance_lines": profile.insurance_lines,
            "plan_map": _pairs_text(dict(profile.plan_map or {})),
            "default_product": profile.default_product_id,
            "csv_date_format": csv.date_format,
            "csv_delimiter": "TAB" if csv.delimiter == "\t" else csv.delimiter,
            "csv_encoding": csv.encoding,
            "csv_full_file": csv.full_file,
            "csv_insurance_line": csv.insurance_line,
            "csv_sex_values": _pairs_text(dict(csv.sex_values)),
            "csv_maintenance_values": _pairs_text(dict(csv.maintenance_values)),
            "csv_relationship_values": _pairs_text(dict(csv.relationship_values)),
        }
        for target, header in csv.columns.items():
            initial[f"col_{target}"] = header
        return initial

    # fields of the page, in groups
    def rule_fields(self) -> list[forms.BoundField]:
        names = ("default_format", "full_file_terms_missing", "insurance_lines", "default_product")
        return [self[name] for name in names]

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{target}"] for target in TARGETS]

    def csv_fields(self) -> list[forms.BoundField]:
        names = ("csv_date_format", "csv_delimiter", "csv_encoding", "csv_insurance_line", "csv_full_file")
        return [self[name] for name in names]

    def csv_value_fields(self) -> list[forms.BoundField]:
        return [self[f"csv_{name}"] for name in ("sex_values", "maintenance_values", "relationship_values")]

    @property
    def required_columns(self) -> tuple[str, ...]:
        return REQUIRED_TARGETS

    def clean_plan_map(self) -> dict[str, str]:
        return _parse_pairs(self.cleaned_data.get("plan_map") or "", "PLAN CODE=PRODUCT CODE")

    def clean_csv_sex_values(self) -> dict[str, str]:
        return _parse_pairs(self.cleaned_data.get("csv_sex_values") or "", "VALUE=CODE")

    def clean_csv_maintenance_values(self) -> dict[str, str]:
        return _parse_pairs(self.cleaned_data.get("csv_maintenance_values") or "", "VALUE=CODE")

    def clean_csv_relationship_values(self) -> dict[str, str]:
        return _parse_pairs(self.cleaned_data.get("csv_relationship_values") or "", "VALUE=CODE")

    def clean_csv_delimiter(self) -> str:
        value = self.cleaned_data.get("csv_delimiter") or ""
        return "\t" if value.strip().upper() in ("TAB", "\\T") else value

    def profile_data(self) -> dict[str, Any]:
        """The data for `roster_profile_save`: no column mapped means no CSV mapping at all."""
        data = self.cleaned_data
        columns = {t: data[f"col_{t}"].strip() for t in TARGETS if (data.get(f"col_{t}") or "").strip()}
        csv: dict[str, Any] = {}
        if columns:
            csv = {
                "columns": columns,
                "date_format": data["csv_date_format"],
                "delimiter": data["csv_delimiter"],
                "encoding": data["csv_encoding"].strip(),
                "sex_values": data["csv_sex_values"],
                "maintenance_values": data["csv_maintenance_values"],
                "relationship_values": data["csv_relationship_values"],
                "full_file": bool(data.get("csv_full_file")),
                "insurance_line": data["csv_insurance_line"].strip().upper(),
            }
        return {
            "default_format": data["default_format"],
            "full_file_terms_missing": bool(data.get("full_file_terms_missing")),
            "insurance_lines": data["insurance_lines"],
            "plan_map": data["plan_map"],
            "default_product": data.get("default_product"),
            "csv_profile": csv,
        }

    def put_errors(self, exc: ValidationFailed) -> None:
        """The service's `csv.columns.<field>` and `csv.<setting>` errors next to their inputs."""
        fields: dict[str, list[str]] = {}
        for key, messages in exc.fields.items():
            if key.startswith("csv.columns."):
                name = "col_" + key.removeprefix("csv.columns.")
            elif key.startswith("csv."):
                name = "csv_" + key.removeprefix("csv.")
            elif key == "csv":
                name = ""
            else:
                name = key
            fields.setdefault(name if name == "" or name in self.fields else "", []).extend(messages)
        apply_errors(self, ValidationFailed(fields))


def _readable(data: Any) -> bool:
    try:
        CsvProfile.from_dict(data or {})
    except ValueError:
        return False
    return True
