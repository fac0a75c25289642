from django.urls import path, re_path

from crisishub.api import views

urlpatterns = [
    path("v1/referrals", views.referrals, name="api-referrals"),
    path("v1/incidents/<str:number>", views.incident_status, name="api-incident"),
    path("openapi.json", views.openapi, name="api-openapi"),
    # Any other address under /api/ gets the API's error body, not an HTML page.
    re_path(r"^.*$", views.not_found, name="api-not-found"),
]
