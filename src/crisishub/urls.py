from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("crisishub.api.urls")),
    path("followup/", include("crisishub.followup.urls")),
    path("safety-plans/", include("crisishub.safetyplan.urls")),
    path("", include("crisishub.consoles.urls")),
]
