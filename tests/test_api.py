"""Tests for the partner API: tokens, idempotency, the error body, OpenAPI."""

from __future__ import annotations

import io
import json

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

from crisishub.api import openapi
from crisishub.api.auth import create_partner, hash_token
from crisishub.audit.models import AuditEntry
from crisishub.core.models import (
    Contact, IdempotencyRecord, Incident, IncidentEvent, Partner, Screening, TriageDecision,
)

pytestmark = pytest.mark.django_db

REFERRALS = "/api/v1/referrals"
DOWNTOWN = {"latitude": 38.576594, "longitude": -121.432144, "precision": "device"}
# C-SSRS screener responses that the skip logic accepts: ideation with a
# method, no intent, no behavior.
MODERATE_ANSWERS = {"1": True, "2": True, "3": True, "4": False, "5": False, "6": False}

# Every row a referral can create; an invalid request must leave all unchanged.
SAVED_MODELS = (Contact, Screening, TriageDecision, Incident, IncidentEvent, IdempotencyRecord, AuditEntry)


def valid_referral(**changes) -> dict:
    body = {
        "external_reference": "988-CASE-0001",
        "caller": {"name": "Test Caller", "phone": "916-555-0101"},
        "preferred_language": "es",
        "location": dict(DOWNTOWN),
        "screening": {"cssrs": dict(MODERATE_ANSWERS)},
        "priority": 2,
    }
    body.update(changes)
    return body


@pytest.fixture
def partner(reference_data):
    partner, token = create_partner("Test 988 Center")
    return partner, token


def post(client, token, body, key="key-0001", raw: bytes | None = None):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = raw if raw is not None else json.dumps(body)
    return client.post(REFERRALS, data=data, content_type="application/json", headers=headers)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SAVED_MODELS}


def assert_error_body(response, status, code, fields=()):
    """Check the whole documented error body, and the schema served for it."""
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"ok", "code", "error", "errors"}
    assert body["ok"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"].strip()
    assert [error["field"] for error in body["errors"]] == list(fields)
    for error in body["errors"]:
        assert set(error) == {"field", "message", "fix"}
        assert error["message"].strip()
        assert error["fix"].strip()
    jsonschema.validate(body, openapi.ERROR_BODY)
    return body


# --- Token authentication -------------------------------------------------


def test_referral_without_token_401(client, partner):
    before = row_counts()

    response = post(client, None, valid_referral())

    assert_error_body(response, 401, "unauthorized", ["Authorization"])
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert row_counts() == before


@pytest.mark.parametrize(
    "header",
    ["Bearer chp_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "chp_token-without-scheme"],
)
def test_referral_wrong_token_401(client, partner, header):
    before = row_counts()

    response = client.post(
        REFERRALS, data=json.dumps(valid_referral()), content_type="application/json",
        headers={"Authorization": header, "Idempotency-Key": "k1"},
    )

    assert_error_body(response, 401, "unauthorized", ["Authorization"])
    assert row_counts() == before


def test_referral_inactive_partner_401(client, partner):
    row, token = partner
    Partner.objects.filter(pk=row.pk).update(is_active=False)
    before = row_counts()

    response = post(client, token, valid_referral())

    assert_error_body(response, 401, "unauthorized", ["Authorization"])
    assert row_counts() == before


def test_token_stored_only_as_hash(partner):
    row, token = partner

    row.refresh_from_db()
    assert token.startswith("chp_")
    assert token not in row.token_sha256
    assert row.token_sha256 == hash_token(token)


# --- A valid referral -----------------------------------------------------


def test_referral_creates_contact_triage_incident(client, partner):
    row, token = partner

    response = post(client, token, valid_referral())

    assert response.status_code == 201
    body = response.json()
    jsonschema.validate(body, openapi.REFERRAL_RESULT)
    contact = Contact.objects.get()
    assert body["contact"] == {"id": contact.pk, "external_reference": "988-CASE-0001"}
    assert contact.partner == row
    assert contact.source == Contact.Source.LIFELINE_988
    assert contact.preferred_language == "es"
    assert body["triage"]["final_path"] == "mobile_response"
    incident = Incident.objects.get()
    assert body["incident"]["number"] == incident.number
    assert body["incident"]["status"] == "pending"
    assert body["incident"]["area_class"] == "urban"
    assert incident.language == "es"
    assert IdempotencyRecord.objects.get().response_body == body


def test_incident_status_for_own_partner(client, partner):
    _, token = partner
    number = post(client, token, valid_referral()).json()["incident"]["number"]

    response = client.get(f"/api/v1/incidents/{number}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["incident"]["number"] == number
    assert response.json()["incident"]["status"] == "pending"


def test_incident_status_other_partner_404(client, partner):
    _, token = partner
    number = post(client, token, valid_referral()).json()["incident"]["number"]
    _, other_token = create_partner("Other 988 Center")

    response = client.get(f"/api/v1/incidents/{number}", headers={"Authorization": f"Bearer {other_token}"})

    body = assert_error_body(response, 404, "not_found", ["number"])
    assert number in body["error"]


def test_incident_status_without_token_401(client, partner):
    response = client.get("/api/v1/incidents/MR2026-000001")

    assert_error_body(response, 401, "unauthorized", ["Authorization"])


# --- Idempotency-Key ------------------------------------------------------


def test_retry_same_key_returns_first_result(client, partner):
    _, token = partner
    first = post(client, token, valid_referral(), key="retry-1")
    after_first = row_counts()

    second = post(client, token, valid_referral(), key="retry-1")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert row_counts() == after_first
    assert Contact.objects.count() == 1
    assert Incident.objects.count() == 1


def test_same_key_different_body_422(client, partner):
    _, token = partner
    post(client, token, valid_referral(), key="reused")
    after_first = row_counts()

    response = post(client, token, valid_referral(priority=1), key="reused")

    body = assert_error_body(response, 422, "idempotency_key_reused", ["Idempotency-Key"])
    assert "different body" in body["error"]
    assert "new key" in body["errors"][0]["fix"]
    assert row_counts() == after_first


def test_same_key_other_partner_independent(client, partner):
    _, token = partner
    _, other_token = create_partner("Other 988 Center")
    post(client, token, valid_referral(), key="shared-key")

    response = post(client, other_token, valid_referral(), key="shared-key")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(("key", "problem"), [(None, "missing"), ("", "missing"), ("k" * 201, "longer than 200")])
def test_missing_or_long_key_400(client, partner, key, problem):
    _, token = partner
    before = row_counts()

    response = post(client, token, valid_referral(), key=key)

    body = assert_error_body(response, 400, "idempotency_key_missing", ["Idempotency-Key"])
    assert problem in body["error"]
    assert "UUID" in body["errors"][0]["fix"]
    assert row_counts() == before


def test_invalid_request_keeps_key_free(client, partner):
    _, token = partner
    bad = valid_referral(location={"latitude": 95.0, "longitude": -121.4, "precision": "device"})
    assert post(client, token, bad, key="fix-and-retry").status_code == 400

    response = post(client, token, valid_referral(), key="fix-and-retry")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


# --- The error body on each kind of invalid input -------------------------

INVALID_BODIES = [
    # (id, body, status, code, field, words in the message)
    ("unknown field", valid_referral(colour="red"), 400, "invalid", "colour", "Unknown field"),
    ("unknown caller field", valid_referral(caller={"age": 30}), 400, "invalid", "caller.age", "Unknown field"),
    ("body is a list", [valid_referral()], 400, "invalid", "body", "JSON object"),
    ("location missing", {k: v for k, v in valid_referral().items() if k != "location"},
     400, "invalid", "location", "missing"),
    ("location not object", valid_referral(location="J St"), 400, "invalid", "location", "JSON object"),
    ("latitude out of range", valid_referral(location={**DOWNTOWN, "latitude": 95.0}),
     400, "invalid", "location.latitude", "95.0"),
    ("longitude text", valid_referral(location={**DOWNTOWN, "longitude": "west"}),
     400, "invalid", "location.longitude", '"west"'),
    ("latitude alone", valid_referral(location={"latitude": 38.5, "precision": "device"}),
     400, "invalid", "location.longitude", "both"),
    ("bad precision", valid_referral(location={**DOWNTOWN, "precision": "psychic"}),
     400, "invalid", "location.precision", '"psychic"'),
    ("no location reason", valid_referral(location={"description": "somewhere"}),
     400, "invalid", "location.unknown_reason", "no reason"),
    ("bad language", valid_referral(preferred_language="klingon"),
     400, "invalid", "preferred_language", '"klingon"'),
    ("bad channel", valid_referral(channel="fax"), 400, "invalid", "channel", '"fax"'),
    ("bad relationship", valid_referral(caller_relationship="neighbor"),
     400, "invalid", "caller_relationship", '"neighbor"'),
    ("priority 4", valid_referral(priority=4), 400, "invalid", "priority", "4"),
    ("priority true", valid_referral(priority=True), 400, "invalid", "priority", "true"),
    ("interpreter not bool", valid_referral(interpreter_used="yes"),
     400, "invalid", "interpreter_used", '"yes"'),
    ("received_at no offset", valid_referral(received_at="2026-01-31T22:05:00"),
     400, "invalid", "received_at", "UTC offset"),
    ("notes too long", valid_referral(safety_notes="x" * 2001), 400, "invalid", "safety_notes", "2000"),
    ("no screening or priority",
     {k: v for k, v in valid_referral().items() if k not in ("screening", "priority")},
     400, "invalid", "screening", "screening or a priority"),
    ("cssrs not object", valid_referral(screening={"cssrs": [True]}),
     400, "invalid", "screening.cssrs", "JSON object"),
    ("unknown screening field", valid_referral(screening={"cssrs": MODERATE_ANSWERS, "score": 3}),
     400, "invalid", "screening.score", "Unknown field"),
    ("danger not bool", valid_referral(screening={"cssrs": MODERATE_ANSWERS, "danger_to_others": "no"}),
     400, "invalid", "screening.danger_to_others", '"no"'),
    ("lifeline not object", valid_referral(screening={"cssrs": MODERATE_ANSWERS, "lifeline": ["desire"]}),
     400, "invalid", "screening.lifeline", "JSON object"),
    # The skip logic asks item 3 only after a yes to item 2, so a value for it is invalid.
    ("cssrs skip logic", valid_referral(screening={"cssrs": {"1": True, "2": False, "3": True, "6": False}}),
     400, "invalid", "screening.cssrs.3", "3"),
    ("cssrs missing item", valid_referral(screening={"cssrs": {"1": True}}),
     400, "invalid", "screening.cssrs.2", "2"),
    ("lifeline unknown factor", valid_referral(screening={"cssrs": MODERATE_ANSWERS, "lifeline": {"desire": ["bored"]}}),
     400, "invalid", "screening.lifeline.desire", "bored"),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "field", "words"),
    [case[1:] for case in INVALID_BODIES],
    ids=[case[0] for case in INVALID_BODIES],
)
def test_invalid_body_error_and_nothing_saved(client, partner, body, status, code, field, words):
    _, token = partner
    before = row_counts()

    response = post(client, token, body)

    error = assert_error_body(response, status, code, [field])
    assert words in error["errors"][0]["message"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("raw", "words"),
    [(b"{not json", "not valid JSON"), (b"", "not valid JSON"), (b"\xff\xfe", "not valid JSON")],
    ids=["syntax", "empty", "not utf-8"],
)
def test_malformed_json_400(client, partner, raw, words):
    _, token = partner
    before = row_counts()

    response = post(client, token, None, raw=raw)

    body = assert_error_body(response, 400, "invalid_json", ["body"])
    assert (words in body["error"]) if raw else ("empty" in body["error"])
    assert row_counts() == before


def test_body_too_large_413(client, partner):
    _, token = partner
    before = row_counts()

    response = post(client, token, valid_referral(safety_notes="x" * 70_000))

    body = assert_error_body(response, 413, "too_large", ["body"])
    assert "65536" in body["error"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("get", REFERRALS, "POST"), ("put", REFERRALS, "POST"),
     ("post", "/api/v1/incidents/MR2026-000001", "GET"), ("delete", "/api/openapi.json", "GET")],
)
def test_wrong_method_405(client, partner, method, path, allowed):
    _, token = partner

    response = getattr(client, method)(path, headers={"Authorization": f"Bearer {token}"})

    assert_error_body(response, 405, "method_not_allowed", ["method"])
    assert response["Allow"] == allowed


def test_unknown_api_path_404(client):
    response = client.get("/api/v2/nothing")

    body = assert_error_body(response, 404, "not_found", ["path"])
    assert "/api/v2/nothing" in body["error"]


def test_no_active_matrix_409_nothing_saved(client, partner):
    from crisishub.core.models import RiskMatrix

    _, token = partner
    RiskMatrix.objects.filter(is_active=True).update(is_active=False)
    before = row_counts()

    response = post(client, token, valid_referral())

    body = assert_error_body(response, 409, "conflict")
    assert "matrix" in body["error"].lower()
    # The contact was created before the matrix lookup failed; the whole
    # referral rolled back.
    assert row_counts() == before


# --- OpenAPI ----------------------------------------------------------------


def _api_routes() -> set[tuple[str, str]]:
    """Return (OpenAPI path, route name) for every route under /api/."""
    resolver = get_resolver()
    api = next(p for p in resolver.url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/")
    routes = set()
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name == "api-not-found":
            continue
        route = str(pattern.pattern).replace("<str:", "{").replace(">", "}")
        routes.add(("/" + route, pattern.name))
    return routes


def test_openapi_document_valid(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_openapi_paths_match_routes(client):
    document = client.get("/api/openapi.json").json()

    assert set(document["paths"]) == {path for path, _ in _api_routes()}
    assert document["servers"] == [{"url": "/api"}]


def test_openapi_error_codes_match_views():
    import re
    from pathlib import Path

    import crisishub.api.views as views

    source = Path(views.__file__).read_text("utf-8")
    used = set(re.findall(r'error_response\(\s*\d+,\s*"([a-z_]+)"', source))
    from crisishub.core.errors import Conflict, InvalidInput, NotFound

    used |= {InvalidInput.code, NotFound.code, Conflict.code}
    assert used <= set(openapi.ERROR_BODY["properties"]["code"]["enum"])


def test_openapi_referral_schema_accepts_example():
    jsonschema.validate(valid_referral(), openapi.REFERRAL)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(valid_referral(colour="red"), openapi.REFERRAL)


def test_openapi_documents_every_status():
    document = openapi.openapi_document()
    operation = document["paths"]["/v1/referrals"]["post"]

    assert {"201", "400", "401", "405", "409", "413", "422"} <= set(operation["responses"])
    header = operation["parameters"][0]
    assert header["name"] == "Idempotency-Key"
    assert header["required"] is True


# --- create_partner command -------------------------------------------------


def test_create_partner_command_prints_token(client, reference_data):
    out = io.StringIO()

    call_command("create_partner", "WellSpace Test 988", stdout=out)

    token = out.getvalue().strip().splitlines()[-1]
    partner = Partner.objects.get(name="WellSpace Test 988")
    assert partner.token_sha256 == hash_token(token)
    response = post(client, token, valid_referral())
    assert response.status_code == 201


def test_create_partner_duplicate_name_rejected(reference_data):
    call_command("create_partner", "Duplicate 988", stdout=io.StringIO())

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_partner", "Duplicate 988", stdout=io.StringIO())
    assert Partner.objects.filter(name="Duplicate 988").count() == 1


def test_create_partner_blank_name_rejected(reference_data):
    with pytest.raises(CommandError, match="name"):
        call_command("create_partner", "   ", stdout=io.StringIO())
    assert Partner.objects.count() == 0


def test_crisishub_manage_create_partner(tmp_path):
    """Run the documented command in a new process on its own SQLite file."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    database = tmp_path / "partners.sqlite3"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", CRISISHUB_DATA_DIR=str(tmp_path))
    command = [str(Path(sys.executable).with_name("crisishub")), "manage"]
    subprocess.run([*command, "migrate", "-v0"], env=env, check=True, timeout=120)

    created = subprocess.run(
        [*command, "create_partner", "Command Line 988"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    again = subprocess.run(
        [*command, "create_partner", "Command Line 988"],
        env=env, capture_output=True, text=True, timeout=60,
    )

    assert created.returncode == 0, created.stderr
    assert "shown only now" in created.stdout
    token = created.stdout.strip().splitlines()[-1]
    with sqlite3.connect(database) as connection:
        stored = connection.execute(
            "SELECT token_sha256 FROM core_partner WHERE name = ?", ("Command Line 988",)
        ).fetchall()
    assert stored == [(hash_token(token),)]
    assert again.returncode == 1
    assert "already exists" in again.stderr
