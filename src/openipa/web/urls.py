"""URLs of the shell: sign-in, dashboard, the directories and their detail and edit pages, the audit log;
the roster and eligibility pages come from `openipa.membership.urls`."""

from django.urls import include, path

from openipa.web import portal_views, views

app_name = "web"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("dashboard/member-months/", views.member_months, name="member_months"),
    # the practice portal home's cards, loaded after the page (htmx)
    path("portal/gaps/", portal_views.gaps_card, name="portal_gaps"),
    path("portal/claims/", portal_views.claims_card, name="portal_claims"),
    path("portal/authorizations/", portal_views.authorizations_card, name="portal_authorizations"),
    path("portal/scorecard/", portal_views.scorecard_card, name="portal_scorecard"),
    path("portal/value/", portal_views.value_card, name="portal_value"),
    path("practices/", views.practice_list, name="practice_list"),
    path("practices/new/", views.practice_edit, name="practice_create"),
    path("practices/<int:pk>/", views.practice_detail, name="practice_detail"),
    path("practices/<int:pk>/edit/", views.practice_edit, name="practice_edit"),
    path("practices/<int:pk>/bank/", views.practice_bank_edit, name="practice_bank_edit"),
    path("practices/<int:practice_pk>/locations/new/", views.location_edit, name="location_create"),
    path("practices/locations/<int:pk>/edit/", views.location_edit, name="location_edit"),
    path("practices/<int:practice_pk>/agreements/new/", views.agreement_edit, name="agreement_create"),
    path("practices/agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("practices/agreements/<int:agreement_pk>/join/", views.contract_join, name="contract_join"),
    path("practices/participations/<int:pk>/leave/", views.contract_leave, name="contract_leave"),
    path("providers/", views.provider_list, name="provider_list"),
    path("providers/new/", views.provider_edit, name="provider_create"),
    path("providers/<int:pk>/", views.provider_detail, name="provider_detail"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider_edit"),
    path(
        "providers/<int:provider_pk>/affiliations/new/", views.affiliation_create, name="affiliation_create"
    ),
    path("providers/affiliations/<int:pk>/end/", views.affiliation_end, name="affiliation_end"),
    path("members/", views.member_list, name="member_list"),
    path("members/export.csv", views.member_export, name="member_export"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("payers/", views.payer_list, name="payer_list"),
    path("payers/new/", views.payer_edit, name="payer_create"),
    path("payers/<int:pk>/", views.payer_detail, name="payer_detail"),
    path("payers/<int:pk>/edit/", views.payer_edit, name="payer_edit"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/", views.contract_edit, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:contract_pk>/terms/new/", views.term_create, name="term_create"),
    path("contracts/terms/<int:pk>/", views.term_detail, name="term_detail"),
    path("contracts/terms/<int:pk>/rates/", views.rate_table_upload, name="rate_table_upload"),
    path("contracts/terms/<int:pk>/dofr/", views.dofr_edit, name="dofr_edit"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    # rosters, the member-months report and PCP panels: web:eligibility:...
    path("", include("openipa.membership.urls")),
    # the ledger (web:ledger:...), capitation (web:capitation:...) and claims (web:claims:...)
    path("", include("openipa.ledger.urls")),
    path("", include("openipa.capitation.urls")),
    path("", include("openipa.claims.urls")),
    # messenger-model offers (web:messenger:...)
    path("", include("openipa.messenger.urls")),
    # exclusion screening (web:credentialing:...)
    path("", include("openipa.credentialing.urls")),
    # utilization management: referrals and prior authorizations (web:utilization:...)
    path("", include("openipa.utilization.urls")),
    # practice performance: the under-service watch (web:performance:...)
    path("", include("openipa.performance.urls")),
    # clinical data: sources, files, the patient-matching review (web:clinical:...)
    path("", include("openipa.clinical.urls")),
    # risk adjustment: CMS-HCC risk runs, member scores, coding gaps (web:risk:...)
    path("", include("openipa.risk.urls")),
    # quality measures: stored runs, rates against targets, care gaps (web:quality:...)
    path("", include("openipa.quality.urls")),
    # value-based performance (issue 9): incentive pools and settlements (web:incentives:...), shared savings
    # and the forecast (web:savings:...), fees, programs and governance (web:association:...), the board
    # dashboard (web:board:...), governance (web:governance:...)
    path("", include("openipa.incentives.urls")),
    path("", include("openipa.savings.urls")),
    path("", include("openipa.association.urls")),
    path("", include("openipa.board.urls")),
    path("", include("openipa.governance.urls")),
]
