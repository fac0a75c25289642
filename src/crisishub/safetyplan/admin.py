"""Read-only admin of safety plans: changes go through the team's screens
so that each one is checked and audited there."""

from django.contrib import admin

from crisishub.safetyplan.models import SafetyPlan, SafetyPlanEntry


class EntryInline(admin.TabularInline):
    model = SafetyPlanEntry
    fields = ("step", "position", "text", "facility")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SafetyPlan)
class SafetyPlanAdmin(admin.ModelAdmin):
    list_display = ("pk", "contact", "version", "incident", "created_at", "superseded_at")
    list_filter = ("superseded_at",)
    readonly_fields = ("contact", "incident", "version", "previous", "reason_for_living",
                       "written_with", "team", "created_by", "review_reason", "created_at",
                       "updated_at", "superseded_at")
    inlines = [EntryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
