"""Data out: exports of the IPA's data in other projects' formats (the Tuva Project's input layer), so members
can run those projects on it."""

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "openipa.exports"
    label = "exports"
    verbose_name = "Data out"
