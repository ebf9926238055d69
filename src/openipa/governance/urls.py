"""URLs of the governance pages, included by the shell's urls (names `web:governance:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.governance import views

app_name = "governance"
urlpatterns: list[URLPattern] = [
    path("governance/", views.home, name="home"),
    path("governance/bodies/new/", views.body_new, name="body_new"),
    path("governance/bodies/<int:pk>/", views.body_detail, name="body"),
    path("governance/bodies/<int:pk>/rules/new/", views.rule_new, name="rule_new"),
    path("governance/bodies/<int:pk>/seats/new/", views.seat_new, name="seat_new"),
    path("governance/seats/<int:pk>/end/", views.seat_end, name="seat_end"),
    path("governance/meetings/", views.meeting_list, name="meetings"),
    path("governance/meetings/new/", views.meeting_new, name="meeting_new"),
    path("governance/meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("governance/meetings/<int:pk>/agenda/", views.agenda_new, name="agenda_new"),
    path("governance/meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("governance/meetings/<int:pk>/motions/new/", views.motion_new, name="motion_new"),
    path("governance/meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("governance/meetings/<int:pk>/status/", views.meeting_status, name="meeting_status"),
    path("governance/motions/<int:pk>/votes/", views.votes, name="votes"),
    path("governance/motions/<int:pk>/decide/", views.motion_action, name="motion_action"),
    path("governance/participation/", views.participation, name="participation"),
]
