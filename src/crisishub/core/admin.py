"""Admin screens: the matrix versions, the directory, teams and stations."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from crisishub.core import models
from crisishub.rules import matrix as matrix_rules


def _admin_site_permission(request) -> bool:
    """Open the admin to staff and to roles with an administrative capability.

    A signed-in user without one gets 403 and an audited denial, not the
    admin's sign-in page.
    """
    from crisishub.audit.signals import record_denied
    from crisishub.core import roles

    user = request.user
    if roles.uses_admin(user):
        return True
    if user.is_authenticated:
        record_denied("admin", request.path[:64], "no administrative capability")
        raise PermissionDenied("Your role does not use the administration site.")
    return False


admin.site.has_permission = _admin_site_permission


class RiskMatrixForm(forms.ModelForm):
    class Meta:
        model = models.RiskMatrix
        fields = ["version", "label", "document", "is_active"]

    def clean_document(self):
        document = self.cleaned_data["document"]
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except json.JSONDecodeError as error:
                raise forms.ValidationError(f"The document is not valid JSON: {error}.") from None
        try:
            parsed = matrix_rules.Matrix.from_dict(document)
        except matrix_rules.MatrixError as error:
            raise forms.ValidationError(str(error)) from None
        version = self.cleaned_data.get("version")
        if version and parsed.version != version:
            raise forms.ValidationError(
                f"The document's version {parsed.version!r} differs from the version field {version!r}; make them equal."
            )
        return document

    def _get_validation_exclusions(self):
        # The one_active_matrix constraint is not checked here: saving an
        # active version deactivates the previous one in the same
        # transaction (RiskMatrixAdmin.save_model).
        exclusions = super()._get_validation_exclusions()
        exclusions.add("is_active")
        return exclusions

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.decisions.exists() and "document" in self.changed_data:
            raise forms.ValidationError(
                "Triage decisions already used this matrix version, so it cannot change. "
                "Add a new version instead."
            )
        return cleaned


@admin.register(models.RiskMatrix)
class RiskMatrixAdmin(admin.ModelAdmin):
    form = RiskMatrixForm
    list_display = ("version", "label", "is_active", "created_at")
    readonly_fields = ("created_at",)
    actions = ["activate_version"]

    def save_model(self, request, obj, form, change):
        from django.contrib import messages
        from django.db import transaction
        from django.utils import timezone

        with transaction.atomic():
            replaced = []
            if obj.is_active:
                replaced = _deactivate_other_matrices(obj)
            if obj.created_at is None:
                obj.created_at = timezone.now()
            super().save_model(request, obj, form, change)
        if replaced:
            messages.info(
                request, f"Matrix {obj.version} is now the active version; "
                f"{', '.join(replaced)} was deactivated in the same step.",
            )

    @admin.action(description="Activate the selected version (deactivates the current one)")
    def activate_version(self, request, queryset):
        from django.contrib import messages
        from django.db import transaction

        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one matrix version to activate; only one can be active.",
                messages.ERROR,
            )
            return
        matrix = queryset.get()
        if matrix.is_active:
            self.message_user(request, f"Matrix {matrix.version} is already the active version.")
            return
        with transaction.atomic():
            replaced = _deactivate_other_matrices(matrix)
            matrix.is_active = True
            matrix.save(update_fields=["is_active"])
        previous = f"; {', '.join(replaced)} was deactivated" if replaced else ""
        self.message_user(request, f"Matrix {matrix.version} is now the active version{previous}.")

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.decisions.exists()


def _deactivate_other_matrices(matrix) -> list[str]:
    """Deactivate every other active version; return their version names.

    Rows are locked and saved one by one, not with QuerySet.update(), so
    the audit trail records each deactivation. Call inside a transaction.
    """
    replaced = []
    others = models.RiskMatrix.objects.select_for_update().exclude(pk=matrix.pk).filter(is_active=True)
    for previous in others:
        previous.is_active = False
        previous.save(update_fields=["is_active"])
        replaced.append(previous.version)
    return replaced


class FacilityForm(forms.ModelForm):
    class Meta:
        model = models.Facility
        fields = "__all__"

    def clean_languages(self):
        languages = self.cleaned_data.get("languages") or []
        if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
            raise forms.ValidationError('Languages must be a list of codes, for example ["en", "es"].')
        unknown = [code for code in languages if code not in models.Language.values]
        if unknown:
            raise forms.ValidationError(
                f"Unknown language code(s) {', '.join(map(repr, unknown))}; use: "
                f"{', '.join(models.Language.values)}."
            )
        return languages


@admin.register(models.Facility)
class FacilityAdmin(admin.ModelAdmin):
    form = FacilityForm
    list_display = (
        "name", "kind", "address", "city", "hours", "languages", "open_24_7",
        "emergency_services", "beds_available", "is_active",
    )
    list_filter = ("kind", "open_24_7", "emergency_services", "is_active")
    search_fields = ("name", "address", "city", "zip_code")


class TeamMemberFormSet(forms.BaseInlineFormSet):
    """Reject a team that is not one counselor and one peer before saving."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        from crisishub.core.errors import InvalidInput
        from crisishub.core.services.teams import validate_members

        members = [
            {
                "display_name": form.cleaned_data.get("display_name", ""),
                "role": form.cleaned_data.get("role", ""),
                "languages": form.cleaned_data.get("languages") or [],
            }
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        try:
            validate_members(members)
        except InvalidInput as error:
            raise forms.ValidationError(f"{error.message} {error.errors[0].fix}") from None


class TeamMemberInline(admin.TabularInline):
    model = models.TeamMember
    formset = TeamMemberFormSet
    extra = 2


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "station", "vehicle", "is_active")
    list_filter = ("status", "is_active")
    inlines = [TeamMemberInline]
    # The union of the members' languages, computed on save.
    readonly_fields = ("languages",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from crisishub.core.services.teams import validate_members
        from crisishub.core.errors import InvalidInput

        team = form.instance
        members = [
            {"display_name": m.display_name, "role": m.role, "languages": m.languages}
            for m in team.members.all()
        ]
        try:
            validate_members(members)
        except InvalidInput as error:
            from django.contrib import messages

            messages.warning(request, f"Team {team.name} is not ready for dispatch: {error.message}")
            team.is_active = False
            team.save(update_fields=["is_active"])
            return
        team.languages = sorted({lang for m in members for lang in m["languages"]})
        team.save(update_fields=["languages"])


@admin.register(models.Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "latitude", "longitude")


class PartnerForm(forms.ModelForm):
    class Meta:
        model = models.Partner
        fields = ["name", "is_active"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("The partner name is empty; give a name such as 'WellSpace 988'.")
        return name


@admin.register(models.Partner)
class PartnerAdmin(admin.ModelAdmin):
    """Partners and their API tokens.

    A token is generated on add and by the "Issue a new token" action, and
    shown once on a page of its own. Only its SHA-256 hash is stored.
    """

    form = PartnerForm
    list_display = ("name", "is_active", "created_at")
    readonly_fields = ("created_at",)
    actions = ["issue_new_token"]

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        if not change:
            token = _new_token()
            obj.token_sha256 = _hash_token(token)
            obj.created_at = timezone.now()
            request._partner_tokens = [(obj.name, token)]
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        tokens = getattr(request, "_partner_tokens", None)
        if tokens:
            return _token_page(request, self, tokens, f"Partner {obj.name} created.")
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Issue a new API token (the old one stops working)")
    def issue_new_token(self, request, queryset):
        from django.db import transaction

        tokens = []
        with transaction.atomic():
            for partner in queryset.select_for_update().order_by("name"):
                token = _new_token()
                partner.token_sha256 = _hash_token(token)
                partner.save(update_fields=["token_sha256"])
                tokens.append((partner.name, token))
        return _token_page(request, self, tokens, "New tokens issued; the previous tokens no longer work.")


def _new_token() -> str:
    import secrets

    return "chp_" + secrets.token_urlsafe(32)


def _hash_token(token: str) -> str:
    from crisishub.api.auth import hash_token

    return hash_token(token)


def _token_page(request, model_admin, tokens, headline):
    """Show new tokens once, on a page that is not cached."""
    from django.template.response import TemplateResponse
    from django.utils.cache import add_never_cache_headers

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Partner API tokens",
        "headline": headline,
        "tokens": tokens,
    }
    response = TemplateResponse(request, "admin/core/partner/tokens.html", context)
    add_never_cache_headers(response)
    return response
