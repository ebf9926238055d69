"""URLs of the capitation pages, included by the shell's urls (names `web:capitation:...`)."""

from django.urls import path

from openipa.capitation.views import discrepancies, profiles, reconciliation, remittances, runs, statements

app_name = "capitation"
urlpatterns = [
    path("capitation/", reconciliation.overview, name="overview"),
    path("capitation/remittances/", remittances.remittance_list, name="remittance_list"),
    path("capitation/remittances/upload/", remittances.remittance_upload, name="remittance_upload"),
    path("capitation/remittances/<int:pk>/", remittances.remittance_detail, name="remittance_detail"),
    path("capitation/remittances/<int:pk>/file/", remittances.remittance_file, name="remittance_file"),
    path("capitation/remittances/<int:pk>/999/", remittances.remittance_ack, name="remittance_ack"),
    path("capitation/payers/<int:payer_pk>/", reconciliation.payer_detail, name="payer_detail"),
    path(
        "capitation/payers/<int:payer_pk>/reconcile/", reconciliation.reconcile_month, name="reconcile_month"
    ),
    path("capitation/payers/<int:payer_pk>/profile/", profiles.capitation_profile, name="capitation_profile"),
    path("capitation/payers/<int:payer_pk>/disputes.csv", reconciliation.dispute_file, name="dispute_file"),
    path("capitation/payers/<int:payer_pk>/<str:month>/", reconciliation.payer_month, name="payer_month"),
    path("capitation/discrepancies/", discrepancies.work_queue, name="work_queue"),
    path("capitation/discrepancies/<int:pk>/act/", discrepancies.discrepancy_act, name="discrepancy_act"),
    path("capitation/runs/", runs.run_list, name="run_list"),
    path("capitation/runs/prepare/", runs.run_prepare, name="run_prepare"),
    path("capitation/runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("capitation/runs/<int:pk>/approve/", runs.run_approve, name="run_approve"),
    path("capitation/statements/", statements.statement_list, name="statement_list"),
    path("capitation/statements/<int:pk>/", statements.statement_detail, name="statement_detail"),
    path("capitation/statements/<int:pk>/statement.pdf", statements.statement_pdf, name="statement_pdf"),
    path("capitation/statements/<int:pk>/statement.csv", statements.statement_csv, name="statement_csv"),
]
