"""URLs of the ledger pages, included by the shell's urls (names `web:ledger:...`)."""

from django.urls import path

from openipa.ledger import views

app_name = "ledger"
urlpatterns = [
    path("ledger/", views.trial_balance, name="trial_balance"),
    path("ledger/trial-balance.csv", views.trial_balance_csv, name="trial_balance_csv"),
    path("ledger/accounts/<str:code>/", views.account_detail, name="account_detail"),
    path("ledger/entries/", views.journal, name="journal"),
    path("ledger/entries/<int:number>/", views.entry_detail, name="entry_detail"),
    path("ledger/entries/<int:number>/reverse/", views.entry_reverse, name="entry_reverse"),
]
