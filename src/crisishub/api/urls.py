from django.urls import path

from crisishub.api import views

urlpatterns = [
    path("v1/referrals", views.referrals, name="api-referrals"),
    path("v1/incidents/<str:number>", views.incident_status, name="api-incident"),
    path("openapi.json", views.openapi, name="api-openapi"),
]
