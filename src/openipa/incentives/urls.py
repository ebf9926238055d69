"""URLs of the incentives pages, included by the shell's urls (names `web:incentives:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.incentives import views

app_name = "incentives"
urlpatterns: list[URLPattern] = [
    path("incentives/", views.run_list, name="run_list"),
    path("incentives/prepare/", views.run_prepare, name="run_prepare"),
    path("incentives/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("incentives/runs/<int:pk>/approve/", views.run_approve, name="run_approve"),
    path("incentives/runs/<int:pk>/pay/", views.run_pay, name="run_pay"),
    path("incentives/runs/<int:pk>/payment-files/<int:file_pk>/", views.payment_file, name="payment_file"),
    path("incentives/formulas/", views.formula_list, name="formula_list"),
    path("incentives/formulas/new/", views.formula_new, name="formula_new"),
    path("incentives/statements/", views.statement_list, name="statement_list"),
    path("incentives/statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("incentives/statements/<int:pk>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("incentives/statements/<int:pk>/statement.csv", views.statement_csv, name="statement_csv"),
]
