"""URLs of the association pages, included by the shell's urls (names `web:association:...`): membership fees
and health-improvement programs."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.association import views

app_name = "association"
urlpatterns: list[URLPattern] = [
    path("fees/", views.fees_home, name="fees_home"),
    path("fees/terms/", views.term_list, name="term_list"),
    path("fees/terms/<int:pk>/end/", views.term_end, name="term_end"),
    path("fees/runs/", views.run_list, name="run_list"),
    path("fees/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("fees/runs/<int:pk>/approve/", views.run_approve, name="run_approve"),
    path("fees/runs/<int:pk>/issue/", views.run_issue, name="run_issue"),
    path("fees/invoices/", views.invoice_list, name="invoice_list"),
    path("fees/invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("fees/invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("fees/invoices/<int:pk>/credit/", views.invoice_credit, name="invoice_credit"),
    path("fees/payments/", views.payment_list, name="payment_list"),
    path("fees/balances/", views.balances, name="balances"),
    path("fees/statements/<int:practice_id>/", views.statement, name="statement"),
    path("fees/statements/<int:practice_id>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("fees/statements/<int:practice_id>/csv/", views.statement_csv, name="statement_csv"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/new/", views.program_create, name="program_create"),
    path("programs/<int:pk>/", views.program_detail, name="program_detail"),
    path("programs/<int:pk>/edit/", views.program_edit, name="program_edit"),
    path("programs/<int:pk>/join/", views.program_join, name="program_join"),
    path(
        "programs/<int:pk>/participants/<int:participant_id>/leave/",
        views.program_leave,
        name="program_leave",
    ),
]
