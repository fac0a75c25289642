from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crisishub.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crisishub.audit import signals  # noqa: F401
