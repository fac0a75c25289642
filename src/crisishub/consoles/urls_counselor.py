"""URLs of the call counselor's console, mounted under ``counselor/``."""

from django.urls import path

from crisishub.consoles import views_counselor as views

app_name = "counselor"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("start/", views.start_contact, name="start"),
    path("referred/<int:contact_id>/open/", views.open_referred, name="open_referred"),
    path("contacts/<int:contact_id>/", views.contact_page, name="contact"),
    path("contacts/<int:contact_id>/workflow/", views.workflow_fragment, name="workflow"),
    path("contacts/<int:contact_id>/response-panel/", views.response_fragment,
         name="response_panel"),
    path("contacts/<int:contact_id>/details/", views.autosave_details, name="details"),
    path("contacts/<int:contact_id>/location/", views.set_location, name="location"),
    path("contacts/<int:contact_id>/addresses/", views.address_search, name="address_search"),
    path("contacts/<int:contact_id>/cssrs/", views.answer_cssrs, name="cssrs"),
    path("contacts/<int:contact_id>/assessment/", views.record_assessment, name="assessment"),
    path("contacts/<int:contact_id>/decision/", views.decide, name="decide"),
    path("contacts/<int:contact_id>/response/", views.request_response, name="request_response"),
    path("contacts/<int:contact_id>/imminent/", views.imminent_step, name="imminent"),
    path("contacts/<int:contact_id>/close/", views.close_contact, name="close"),
    path("contacts/<int:contact_id>/form-drafts/<slug:prefix>/", views.save_form_draft,
         name="form_draft"),
]
