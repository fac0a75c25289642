"""Admin screens for partners and matrix versions."""

from __future__ import annotations

import json
import re

import pytest

from crisishub.api.auth import create_partner, hash_token
from crisishub.audit.models import AuditEntry
from crisishub.core.models import Partner, RiskMatrix
from crisishub.core.setup import example_matrix_document

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'<code class="partner-token">(chp_[A-Za-z0-9_-]+)</code>')


def referral_status(client, token: str, key: str) -> int:
    body = {"location": {"unknown_reason": "caller would not say"}, "priority": 2}
    return client.post(
        "/api/v1/referrals", data=json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    ).status_code


# --- Partners -------------------------------------------------------------------


def test_add_partner_shows_token_once(admin_client, client, reference_data):
    response = admin_client.post("/admin/core/partner/add/", {"name": "Admin Partner", "is_active": "on"})

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    (token,) = TOKEN.findall(response.content.decode())
    partner = Partner.objects.get(name="Admin Partner")
    assert partner.token_sha256 == hash_token(token)
    assert partner.created_at is not None
    assert referral_status(client, token, "admin-1") == 201
    changelist = admin_client.get("/admin/core/partner/").content.decode()
    assert token not in changelist


def test_add_partner_blank_name_rejected(admin_client, reference_data):
    response = admin_client.post("/admin/core/partner/add/", {"name": "   ", "is_active": "on"})

    assert response.status_code == 200
    assert Partner.objects.count() == 0
    form = response.context["adminform"].form
    assert "name" in form.errors


def test_add_partner_creation_audited(admin_client, reference_data):
    admin_client.post("/admin/core/partner/add/", {"name": "Audited Partner", "is_active": "on"})

    partner = Partner.objects.get(name="Audited Partner")
    entry = AuditEntry.objects.get(object_type="core.partner", object_id=str(partner.pk), action="create")
    assert entry.actor.username == "admin"
    assert partner.token_sha256 not in json.dumps(entry.changes)


def test_issue_new_token_replaces_old(admin_client, client, reference_data):
    partner, old_token = create_partner("Rotating Partner")

    response = admin_client.post("/admin/core/partner/", {
        "action": "issue_new_token", "_selected_action": [partner.pk],
    })

    assert response.status_code == 200
    (new_token,) = TOKEN.findall(response.content.decode())
    assert new_token != old_token
    assert referral_status(client, old_token, "rot-1") == 401
    assert referral_status(client, new_token, "rot-2") == 201


# --- Matrix versions --------------------------------------------------------------


def new_version_form(version: str, is_active: bool) -> dict:
    document = example_matrix_document()
    document["version"] = version
    data = {"version": version, "label": f"Test {version}", "document": json.dumps(document)}
    if is_active:
        data["is_active"] = "on"
    return data


def test_add_active_matrix_replaces_active_in_one_save(admin_client, reference_data):
    previous = RiskMatrix.objects.get(is_active=True)

    response = admin_client.post("/admin/core/riskmatrix/add/", new_version_form("test-2026.2", True), follow=True)

    assert response.status_code == 200
    assert list(RiskMatrix.objects.filter(is_active=True).values_list("version", flat=True)) == ["test-2026.2"]
    messages = [str(m) for m in response.context["messages"]]
    assert any(previous.version in m and "deactivated" in m for m in messages), messages
    deactivation = AuditEntry.objects.filter(
        object_type="core.riskmatrix", object_id=str(previous.pk), action="change",
    ).get()
    assert deactivation.changes["is_active"] == [True, False]


def test_matrix_json_error_without_constraint_message(admin_client, reference_data):
    data = new_version_form("test-2026.3", True)
    data["document"] = "{not json"

    response = admin_client.post("/admin/core/riskmatrix/add/", data)

    assert response.status_code == 200
    text = response.content.decode()
    assert "valid JSON" in text
    assert "one_active_matrix" not in text
    assert RiskMatrix.objects.count() == 1


def test_activate_action_switches_version(admin_client, reference_data):
    previous = RiskMatrix.objects.get(is_active=True)
    admin_client.post("/admin/core/riskmatrix/add/", new_version_form("test-2026.4", False))
    new = RiskMatrix.objects.get(version="test-2026.4")
    assert new.is_active is False

    response = admin_client.post("/admin/core/riskmatrix/", {
        "action": "activate_version", "_selected_action": [new.pk],
    }, follow=True)

    assert response.status_code == 200
    assert list(RiskMatrix.objects.filter(is_active=True)) == [new]
    previous.refresh_from_db()
    assert previous.is_active is False


def test_activate_action_needs_one_version(admin_client, reference_data):
    admin_client.post("/admin/core/riskmatrix/add/", new_version_form("test-2026.5", False))
    active_before = RiskMatrix.objects.get(is_active=True)

    response = admin_client.post("/admin/core/riskmatrix/", {
        "action": "activate_version", "_selected_action": list(RiskMatrix.objects.values_list("pk", flat=True)),
    }, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert any("exactly one" in m for m in messages)
    assert RiskMatrix.objects.get(is_active=True) == active_before


# --- create_partner outside the hub's folder ---------------------------------------


def test_create_partner_unmigrated_database_clear_error(tmp_path):
    """Run in a folder with no hub database: one clear line, no traceback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CRISISHUB_DATA_DIR")}
    command = [str(Path(sys.executable).with_name("crisishub")), "manage", "create_partner", "Elsewhere"]

    missing = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "not found" in missing.stderr
    assert "CRISISHUB_DATA_DIR" in missing.stderr
    assert not (tmp_path / "var").exists()

    # A data folder that exists but was never migrated.
    (tmp_path / "var").mkdir()
    empty = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert empty.returncode == 1
    assert "Traceback" not in empty.stderr
    assert "has no crisishub tables" in empty.stderr
    assert "CRISISHUB_DATA_DIR" in empty.stderr


def test_create_partner_whitespace_name_rejected(reference_data):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="empty"):
        call_command("create_partner", "   ")
    assert Partner.objects.count() == 0
