from django.urls import path

from crisishub.followup import views

app_name = "followup"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tasks/<int:task_id>/attempts/", views.add_attempt, name="attempt"),
    path("escalations/", views.escalations, name="escalations"),
    path("contacts/<int:contact_id>/referrals/", views.contact_referrals, name="referrals"),
    path("referrals/<int:referral_id>/status/", views.referral_status, name="referral_status"),
]
