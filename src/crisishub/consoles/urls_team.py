"""URLs of the mobile team's phone app, mounted under ``team/``."""

from django.urls import path

from crisishub.consoles import views_team as views

app_name = "team"

urlpatterns = [
    path("", views.home, name="home"),
    path("assignment/", views.assignment_fragment, name="assignment"),
    path("check-in/", views.check_in, name="check_in"),
    path("emergency/", views.emergency, name="emergency"),
    path("incidents/<int:incident_id>/status/", views.record_status, name="status"),
    path("incidents/<int:incident_id>/close-out/", views.close_out, name="close_out"),
]
