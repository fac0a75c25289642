"""Read-only admin lists of follow-up tasks and referrals; the consoles change them."""

from django.contrib import admin

from crisishub.followup.models import FollowUpAttempt, FollowUpTask, Referral


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "contact", "status", "high_risk", "due_at", "escalated_at")
    list_filter = ("status", "high_risk", "reason")


@admin.register(FollowUpAttempt)
class FollowUpAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "outcome", "attempted_at", "attempted_by")
    list_filter = ("outcome",)
    exclude = ("note",)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("id", "contact", "facility", "status", "requested_at", "accepted_at", "completed_at")
    list_filter = ("status",)
    exclude = ("note", "rejection_reason")
