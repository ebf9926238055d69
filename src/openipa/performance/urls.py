"""URLs of the practice performance pages, included by the shell's urls (names `web:performance:...`): the
under-service watch and the practice and PCP scorecards."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.performance import scorecard_views, views

app_name = "performance"
urlpatterns: list[URLPattern] = [
    path("performance/watch/", views.under_service_watch, name="under_service_watch"),
    path("performance/scorecards/", scorecard_views.scorecard_home, name="scorecards"),
    path("performance/scorecards/league.csv", scorecard_views.league_csv, name="scorecard_league_csv"),
    path("performance/scorecards/practice/<int:pk>/", scorecard_views.practice_scorecard,
         name="practice_scorecard"),
    path("performance/scorecards/practice/<int:pk>/csv/", scorecard_views.practice_scorecard_csv,
         name="practice_scorecard_csv"),
    path("performance/scorecards/pcp/<int:pk>/", scorecard_views.pcp_scorecard, name="pcp_scorecard"),
    path("performance/scorecards/pcp/<int:pk>/csv/", scorecard_views.pcp_scorecard_csv, name="pcp_scorecard_csv"),
]  # fmt: skip
