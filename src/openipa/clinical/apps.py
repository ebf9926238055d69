"""Clinical data from the member practices' EHRs, labs and HIEs (FHIR R4, HL7 v2, CSV) and pharmacy claims,
matched to members (issue 8)."""

from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "openipa.clinical"
    label = "clinical"
    verbose_name = "Clinical data"
