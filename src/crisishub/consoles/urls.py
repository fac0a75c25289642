from django.urls import include, path
from django.views.generic import RedirectView

from crisishub.consoles import views

urlpatterns = [
    # Browsers ask for /favicon.ico even when a page names no icon.
    path("favicon.ico", RedirectView.as_view(url="/static/crisishub/img/favicon.svg", permanent=True)),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("counselor/", include("crisishub.consoles.urls_counselor")),
    path("dispatch/", include("crisishub.consoles.urls_dispatch")),
    path("team/", include("crisishub.consoles.urls_team")),
    path("planning/", include("crisishub.consoles.urls_planning")),
    path("reports/", views.reports, name="reports"),
    path("", views.home, name="home"),
]
