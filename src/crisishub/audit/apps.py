from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crisishub.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate

        from crisishub.audit import signals  # noqa: F401
        from crisishub.audit.protection import reinstall_after_migrate
        from crisishub.audit.registry import audited

        # Staff accounts: who may do what is itself audited. The password
        # hash is recorded as changed without its value, and sign-ins
        # (last_login) are not record changes.
        audited(redact=("password",), exclude=("last_login",))(get_user_model())
        post_migrate.connect(reinstall_after_migrate, sender=self)
