"""URLs of the roster and eligibility pages, included by the shell's urls (names `web:eligibility:...`)."""

from django.urls import path

from openipa.membership.views import reports, rosters

app_name = "eligibility"
urlpatterns = [
    path("rosters/", rosters.roster_list, name="roster_list"),
    path("rosters/upload/", rosters.roster_upload, name="roster_upload"),
    path("rosters/<int:pk>/", rosters.roster_report, name="roster_report"),
    path("rosters/<int:pk>/file/", rosters.roster_file, name="roster_file"),
    path("rosters/<int:pk>/999/", rosters.roster_ack, name="roster_ack"),
    path("payers/<int:payer_pk>/roster-profile/", rosters.roster_profile, name="roster_profile"),
    path("reports/months/", reports.member_months_report, name="member_months_report"),
    path("pcp-panels/", reports.pcp_panels, name="pcp_panels"),
    path("pcp-panels/export.csv", reports.pcp_panels_export, name="pcp_panels_export"),
]
