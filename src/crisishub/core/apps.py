from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "crisishub.core"
    label = "core"
    verbose_name = "Crisis hub"
    default_auto_field = "django.db.models.BigAutoField"
