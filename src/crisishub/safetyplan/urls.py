"""URLs of safety plans, mounted under ``safety-plans/``."""

from django.urls import path

from crisishub.safetyplan import views

app_name = "safetyplan"

urlpatterns = [
    path("incidents/<int:incident_id>/", views.from_incident, name="from_incident"),
    path("contacts/<int:contact_id>/", views.from_contact, name="from_contact"),
    path("<int:plan_id>/", views.detail, name="detail"),
    path("<int:plan_id>/steps/<int:step>/", views.step_page, name="step"),
    path("<int:plan_id>/suggestions/", views.add_suggestion, name="add_suggestion"),
    path("<int:plan_id>/review/", views.review, name="review"),
    path("<int:plan_id>/copy/", views.print_copy, name="print"),
    path("fhir/CarePlan/<int:plan_id>", views.fhir_careplan, name="fhir"),
]
