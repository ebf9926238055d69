"""URLs of the savings pages, included by the shell's urls (names `web:savings:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.savings import views

app_name = "savings"
urlpatterns: list[URLPattern] = [
    path("savings/", views.overview, name="overview"),
    path("savings/settle/", views.settle, name="settle"),
    path("savings/forecast/", views.forecast_create, name="forecast_create"),
    path("savings/forecasts/<int:pk>/", views.forecast_detail, name="forecast_detail"),
    path("savings/terms/new/", views.term_create, name="term_create"),
    path("savings/terms/<int:pk>/", views.term_detail, name="term_detail"),
    path("savings/formulas/new/", views.formula_create, name="formula_create"),
    path("savings/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("savings/runs/<int:pk>/approve/", views.run_approve, name="run_approve"),
    path("savings/runs/<int:pk>/pay/", views.run_pay, name="run_pay"),
    path("savings/statements/", views.statement_list, name="statement_list"),
    path("savings/statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("savings/statements/<int:pk>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("savings/statements/<int:pk>/csv/", views.statement_csv, name="statement_csv"),
]
