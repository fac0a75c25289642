from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "crisishub.followup"
    label = "followup"
    verbose_name = "Follow-up and referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Creates follow-up tasks when contacts close and field encounters clear.
        from django.core import checks

        from crisishub.followup import signals  # noqa: F401
        from crisishub.followup.services import check_protocol_settings

        checks.register(check_protocol_settings)
