from django.apps import AppConfig


class ConsolesConfig(AppConfig):
    name = "crisishub.consoles"
    label = "consoles"
    default_auto_field = "django.db.models.BigAutoField"
