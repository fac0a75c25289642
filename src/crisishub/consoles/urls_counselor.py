from django.urls import path

from crisishub.consoles import views_counselor as views

app_name = "counselor"

urlpatterns = [
    path("", views.console_home, name="home"),
]
