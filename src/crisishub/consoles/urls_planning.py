"""URLs of the planner pages, mounted under ``planning/``."""

from django.urls import path

from crisishub.consoles import views_planning as views

app_name = "planning"

urlpatterns = [
    path("", views.index, name="index"),
    path("profile/", views.profile_page, name="profile"),
    path("profile/<str:kind>.png", views.profile_plot, name="profile_plot"),
    path("staffing/", views.staffing_page, name="staffing"),
    path("placement/", views.placement_page, name="placement"),
    path("simulate/", views.simulate_page, name="simulate"),
]
