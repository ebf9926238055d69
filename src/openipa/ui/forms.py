"""Form helpers every app's pages use: date and search inputs, a service's errors put on the form's fields,
the valid part of a filter form, and payer/practice filter choices scoped to the acting user.

Filter forms take their choices from the acting user's selectors, so a practice user is never offered
(or able to pick) anything outside their scope: an out-of-scope value is an invalid choice and is dropped.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from openipa.contracts import selectors as contract_selectors
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped
from openipa.network import selectors as network_selectors


class DateInput(forms.DateInput):
    input_type = "date"


class SearchInput(forms.TextInput):
    input_type = "search"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})


def apply_errors(form: forms.Form, exc: ValidationFailed | ValidationError) -> None:
    """Put a service's errors next to the fields they name; errors about other things go on top."""
    if isinstance(exc, ValidationError):
        fields: dict[str, list[str]] = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"": [str(m) for m in exc.messages]}
        )
    else:
        fields = exc.fields
    for name, messages in fields.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
            elif name in ("", "__all__"):
                form.add_error(None, message)
            else:
                form.add_error(None, f"{name.replace('_', ' ')}: {message}")


def valid_data(form: forms.Form) -> dict[str, Any]:
    """The fields that are valid, even when others are not: a bad filter value is reported and dropped
    while the rest of the search still applies."""
    form.is_valid()
    return dict(getattr(form, "cleaned_data", {}))


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """The form's field ``name``, typed as a choice field so its choices can be filled per user."""
    return cast(forms.ChoiceField, form.fields[name])


def with_blank(label: str, choices: Any) -> list[tuple[str, str]]:
    """``choices`` as strings, after an empty choice labelled ``label`` ("Any payer")."""
    return [("", label), *[(str(k), str(v)) for k, v in choices]]


def scope_payer_and_practice(form: forms.Form, actor: Actor) -> None:
    """Fill a filter form's "payer" and "practice" choices with what ``actor`` may see, or drop the fields:
    payers are financial (contracts), and a practice user sees only their own practice anyway."""
    if has_perm(actor, Perm.VIEW_CONTRACTS):
        payers = contract_selectors.payer_list(actor)
        choice_field(form, "payer").choices = with_blank("Any payer", ((p.pk, p.name) for p in payers))
    else:
        del form.fields["payer"]
    if is_practice_scoped(actor):
        del form.fields["practice"]
    else:
        practices = network_selectors.practice_list(actor)
        choice_field(form, "practice").choices = with_blank(
            "Any practice", ((p.pk, p.legal_name) for p in practices)
        )
