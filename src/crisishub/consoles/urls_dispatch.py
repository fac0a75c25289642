"""URLs of the dispatcher console, mounted under ``dispatch/``."""

from django.urls import path

from crisishub.consoles import views_dispatch as views

app_name = "dispatch"

urlpatterns = [
    path("", views.console, name="console"),
    path("queue/", views.queue_fragment, name="queue"),
    path("board/", views.board_fragment, name="board"),
    path("board/teams/<int:team_id>/", views.team_card_fragment, name="team_card"),
    path("emergencies/", views.emergencies_fragment, name="emergencies"),
    path("emergencies/<int:event_id>/acknowledge/", views.acknowledge_emergency,
         name="acknowledge_emergency"),
    path("map.json", views.map_data, name="map_data"),
    path("incidents/<int:incident_id>/", views.incident_panel, name="incident"),
    path("incidents/<int:incident_id>/summary/", views.incident_summary, name="incident_summary"),
    path("incidents/<int:incident_id>/assign/", views.assign, name="assign"),
    path("incidents/<int:incident_id>/reassign/", views.reassign, name="reassign"),
    path("incidents/<int:incident_id>/cancel/", views.cancel, name="cancel"),
    path("incidents/<int:incident_id>/duplicate/", views.attach_duplicate, name="duplicate"),
    path("incidents/<int:incident_id>/no-team/", views.record_no_team, name="no_team"),
]
