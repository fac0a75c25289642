from django.apps import AppConfig


class SafetyPlanConfig(AppConfig):
    name = "crisishub.safetyplan"
    label = "safetyplan"
    verbose_name = "Safety plans"
    default_auto_field = "django.db.models.BigAutoField"
