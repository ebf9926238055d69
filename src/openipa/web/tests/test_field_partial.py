"""The shared field partial: a checkbox sits before its label, which ends without the colon a text field's
label gets ("[x] End the version in force", not "[x] End the version in force:")."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string


class _Form(forms.Form):
    name = forms.CharField(label="Name")
    end_previous = forms.BooleanField(label="End the version in force", required=False)


def test_a_checkbox_label_has_no_colon_and_follows_the_box() -> None:
    form = _Form()
    box = render_to_string("web/_field.html", {"field": form["end_previous"]})
    assert '<label for="id_end_previous">End the version in force</label>' in box
    assert box.index('type="checkbox"') < box.index("<label")
    text = render_to_string("web/_field.html", {"field": form["name"]})
    assert "Name:</label>" in text
