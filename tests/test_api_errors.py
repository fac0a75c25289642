"""API input checks and the one JSON error body on every kind of failure.

The in-process tests use Django's test client. The server tests send raw
HTTP to a real ``crisishub serve`` (Daphne), because oversized and chunked
bodies are handled before Django sees them.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json

import jsonschema
import pytest
from django.utils import timezone

from crisishub.api import openapi
from crisishub.api.auth import create_partner
from crisishub.core.models import Contact, IdempotencyRecord, Incident

pytestmark = pytest.mark.django_db

REFERRALS = "/api/v1/referrals"
DOWNTOWN = {"latitude": 38.576594, "longitude": -121.432144, "precision": "device"}
NO_RISK = {"1": False, "2": False, "6": False}
# A port of this test file's own range, so parallel runs do not collide.
SERVER_PORT = 18641


def referral(**changes) -> dict:
    body = {"location": dict(DOWNTOWN), "screening": {"cssrs": dict(NO_RISK)}}
    body.update(changes)
    return body


@pytest.fixture
def token(reference_data):
    return create_partner("Error Test 988")[1]


def send(client, token, body=None, key="k-1", raw=None, content_type="application/json"):
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    data = raw if raw is not None else json.dumps(body)
    return client.generic("POST", REFERRALS, data=data, content_type=content_type, headers=headers)


def error_body(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    jsonschema.validate(body, openapi.ERROR_BODY)
    assert body["code"] == code
    for error in body["errors"]:
        assert error["fix"].strip()
    return body


def fields(body: dict) -> list[str]:
    return [error["field"] for error in body["errors"]]


# --- Booleans, numbers and times ------------------------------------------


@pytest.mark.parametrize("value", ["false", "no", 0, None])
def test_danger_to_others_string_rejected(client, token, value):
    screening = {"cssrs": dict(NO_RISK), "danger_to_others": value}
    if value is None:
        screening["danger_to_others"] = []

    body = error_body(send(client, token, referral(screening=screening)), 400, "invalid")

    assert fields(body) == ["screening.danger_to_others"]
    assert Contact.objects.count() == 0


def test_danger_to_others_false_is_routine(client, token):
    screening = {"cssrs": dict(NO_RISK), "danger_to_others": False}

    response = send(client, token, referral(screening=screening, priority=3))

    assert response.status_code == 201
    assert response.json()["triage"]["reasons"] != ["Danger to others"]


@pytest.mark.parametrize(("sent", "stored"), [(2.0, 2), (1e0, 1)])
def test_float_priority_read_as_integer(client, token, sent, stored):
    response = send(client, token, referral(priority=sent, screening=None))

    assert response.status_code == 201
    incident = response.json()["incident"]
    assert incident["priority"] == stored
    assert isinstance(incident["priority"], int)


@pytest.mark.parametrize("value", [2.5, "2", True])
def test_non_integer_priority_rejected(client, token, value):
    body = error_body(send(client, token, referral(priority=value)), 400, "invalid")

    assert fields(body) == ["priority"]


@pytest.mark.parametrize(
    ("offset", "words"),
    [(dt.timedelta(days=365 * 4), "in the future"), (dt.timedelta(minutes=30), "in the future"),
     (-dt.timedelta(days=8), "more than 7 days ago")],
)
def test_received_at_out_of_range_rejected(client, token, offset, words):
    when = (timezone.now() + offset).isoformat()

    body = error_body(send(client, token, referral(received_at=when)), 400, "invalid")

    assert fields(body) == ["received_at"]
    assert words in body["errors"][0]["message"]
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("value", ["1900-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2026-13-45T10:00:00Z"])
def test_received_at_impossible_rejected(client, token, value):
    body = error_body(send(client, token, referral(received_at=value)), 400, "invalid")

    assert fields(body) == ["received_at"]


def test_received_at_recent_accepted(client, token):
    when = (timezone.now() - dt.timedelta(hours=2)).isoformat()

    response = send(client, token, referral(received_at=when))

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert abs((contact.offered_at - dt.datetime.fromisoformat(when)).total_seconds()) < 1


@pytest.mark.parametrize("raw", [b'{"location": {"latitude": NaN}}', b'{"priority": Infinity}'])
def test_nan_and_infinity_rejected(client, token, raw):
    body = error_body(send(client, token, raw=raw), 400, "invalid_json")

    assert "not a JSON number" in body["error"]


def test_repeated_key_rejected(client, token):
    raw = b'{"priority": 1, "priority": 3, "location": {"unknown_reason": "x"}}'

    body = error_body(send(client, token, raw=raw), 400, "invalid_json")

    assert "'priority' appears more than once" in body["error"]


# --- Every field error at once --------------------------------------------


def test_all_field_errors_reported_together(client, token):
    sent = {
        "location": dict(DOWNTOWN), "channel": "fax", "preferred_language": "xx", "priority": 7,
        "received_at": "yesterday", "external_reference": "x" * 101, "caller": {"name": ["a"]},
    }

    body = error_body(send(client, token, sent), 400, "invalid")

    assert sorted(fields(body)) == sorted([
        "priority", "external_reference", "received_at", "channel",
        "preferred_language", "caller.name",
    ])
    assert "6 invalid fields" in body["error"]


def test_missing_screening_listed_with_field_errors(client, token):
    sent = {"location": dict(DOWNTOWN), "received_at": "yesterday"}

    body = error_body(send(client, token, sent), 400, "invalid")

    assert sorted(fields(body)) == ["received_at", "screening"]


# --- Field paths and wording ----------------------------------------------


SCREENING_ERRORS = [
    ("cssrs value", {"cssrs": {**NO_RISK, "1": "yes"}}, "screening.cssrs.1", "true or false"),
    ("cssrs unknown item", {"cssrs": {**NO_RISK, "7": True}}, "screening.cssrs.7", "Unknown C-SSRS item"),
    ("cssrs skip logic", {"cssrs": {**NO_RISK, "3": True}}, "screening.cssrs.3", "skip logic"),
    ("version", {"cssrs": NO_RISK, "instrument_version": "v9"}, "screening.instrument_version", "v9"),
    ("lifeline domain", {"cssrs": NO_RISK, "lifeline": {"foo": []}}, "screening.lifeline.foo", "foo"),
    ("lifeline danger key", {"cssrs": NO_RISK, "lifeline": {"danger_to_others": True}},
     "screening.lifeline.danger_to_others", "not a Lifeline domain"),
    ("lifeline codes", {"cssrs": NO_RISK, "lifeline": {"desire": "ideation"}},
     "screening.lifeline.desire", "list of factor codes"),
    ("danger factors alone", {"cssrs": NO_RISK, "lifeline": {"danger_factors": ["plan"]}},
     "screening.lifeline.danger_factors", "danger_to_others"),
    ("cssrs missing", {"lifeline": {}}, "screening.cssrs", "missing"),
]


@pytest.mark.parametrize(
    ("screening", "field", "words"), [case[1:] for case in SCREENING_ERRORS],
    ids=[case[0] for case in SCREENING_ERRORS],
)
def test_screening_error_names_request_path(client, token, screening, field, words):
    body = error_body(send(client, token, referral(screening=screening)), 400, "invalid")

    assert fields(body) == [field]
    assert words in body["errors"][0]["message"]


def test_version_fix_lists_versions(client, token):
    screening = {"cssrs": NO_RISK, "instrument_version": "v9"}

    body = error_body(send(client, token, referral(screening=screening)), 400, "invalid")

    assert "cssrs-screener-recent-2024" in body["errors"][0]["fix"]


def test_lifeline_fix_lists_only_request_domains(client, token):
    screening = {"cssrs": NO_RISK, "lifeline": {"foo": []}}

    fix = error_body(send(client, token, referral(screening=screening)), 400, "invalid")["errors"][0]["fix"]

    assert "desire" in fix
    assert "danger_to_others" not in fix


def test_danger_factors_with_danger_accepted(client, token):
    screening = {"cssrs": NO_RISK, "danger_to_others": True, "lifeline": {"danger_factors": ["plan"]}}

    response = send(client, token, referral(screening=screening))

    assert response.status_code == 201
    assert response.json()["triage"]["crisis_level"] == "emergent"


@pytest.mark.parametrize(
    ("sent", "words"),
    [({"cssrs": {**NO_RISK, "1": "yes"}}, "True"), ({"cssrs": {**NO_RISK, "1": None, "2": 1}}, "None")],
)
def test_messages_use_json_words(client, token, sent, words):
    body = error_body(send(client, token, referral(screening=sent)), 400, "invalid")

    text = json.dumps(body)
    assert words not in text


def test_missing_precision_named(client, token):
    location = {"latitude": 38.57, "longitude": -121.43}

    body = error_body(send(client, token, referral(location=location)), 400, "invalid")

    assert fields(body) == ["location.precision"]
    assert "missing" in body["errors"][0]["message"]
    assert "unknown" not in body["errors"][0]["fix"].split(":")[-1]


def test_invalid_precision_fix_omits_unknown(client, token):
    location = {**DOWNTOWN, "precision": "psychic"}

    body = error_body(send(client, token, referral(location=location)), 400, "invalid")

    assert "unknown" not in body["errors"][0]["fix"]
    assert "device" in body["errors"][0]["fix"]


def test_coordinates_and_unknown_reason_rejected(client, token):
    location = {**DOWNTOWN, "unknown_reason": "caller would not say"}

    body = error_body(send(client, token, referral(location=location)), 400, "invalid")

    assert fields(body) == ["location.unknown_reason"]
    assert Contact.objects.count() == 0


# --- Duplicate references and idempotency ---------------------------------


def test_repeated_external_reference_409(client, token):
    first = send(client, token, referral(external_reference="W-1"), key="a")

    second = send(client, token, referral(external_reference="W-1"), key="b")

    assert first.status_code == 201
    body = error_body(second, 409, "conflict")
    assert fields(body) == ["external_reference"]
    assert first.json()["incident"]["number"] in body["error"]
    assert Contact.objects.filter(external_reference="W-1").count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_same_reference_other_partner_allowed(client, token, reference_data):
    other = create_partner("Other Error Test 988")[1]

    first = send(client, token, referral(external_reference="W-2"), key="a")
    second = send(client, other, referral(external_reference="W-2"), key="a")

    assert first.status_code == 201
    assert second.status_code == 201


def test_retry_with_reformatted_json_replays(client, token):
    sent = referral(external_reference="W-3", priority=2)
    compact = json.dumps(sent, separators=(",", ":")).encode()
    reformatted = json.dumps(dict(reversed(list(sent.items()))), indent=4).encode()

    first = send(client, token, raw=compact)
    retry = send(client, token, raw=reformatted)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Incident.objects.count() == 1


def test_retry_with_changed_value_422(client, token):
    send(client, token, referral(priority=2))

    body = error_body(send(client, token, referral(priority=1)), 422, "idempotency_key_reused")

    assert fields(body) == ["Idempotency-Key"]


# --- Content-Type -----------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
def test_wrong_content_type_415(client, token, content_type):
    body = error_body(send(client, token, referral(), content_type=content_type), 415, "unsupported_media_type")

    assert fields(body) == ["Content-Type"]
    assert Contact.objects.count() == 0


def test_json_with_utf8_charset_accepted(client, token):
    response = send(client, token, referral(), content_type="application/json; charset=UTF-8")

    assert response.status_code == 201


def test_openapi_documents_415():
    responses = openapi.openapi_document()["paths"]["/v1/referrals"]["post"]["responses"]

    assert "415" in responses
    assert "unsupported_media_type" in openapi.ERROR_BODY["properties"]["code"]["enum"]


# --- Error pages Django would render as HTML --------------------------------


def test_deeply_nested_body_400(client, token):
    raw = b"[" * 5000 + b"]" * 5000

    body = error_body(send(client, token, raw=raw), 400, "invalid_json")

    assert "too deeply" in body["error"]


def test_post_to_incident_without_csrf_405(token, reference_data):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        "/api/v1/incidents/MR2026-000010", data="{}", content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    body = error_body(response, 405, "method_not_allowed")
    assert fields(body) == ["method"]


@pytest.mark.parametrize("path", ["/api/x", "/api/", "/api/v1/referrals/extra"])
def test_unknown_api_paths_json_404(client, path):
    body = error_body(client.get(path), 404, "not_found")

    assert fields(body) == ["path"]


def test_middleware_turns_html_error_json(rf):
    from django.http import HttpResponse, HttpResponseForbidden

    from crisishub.api.middleware import ApiErrorMiddleware

    middleware = ApiErrorMiddleware(lambda request: HttpResponseForbidden("<h1>CSRF</h1>"))
    response = middleware(rf.post("/api/v1/referrals"))
    html = ApiErrorMiddleware(lambda request: HttpResponseForbidden("<h1>CSRF</h1>"))(rf.get("/dispatch/"))

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"] == "forbidden"
    assert html["Content-Type"].startswith("text/html")
    ok = ApiErrorMiddleware(lambda request: HttpResponse("fine"))(rf.get("/api/openapi.json"))
    assert ok.content == b"fine"


def test_uncaught_exception_json_500(client, token, monkeypatch):
    import crisishub.api.views as views

    def fail(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(views, "submit_referral", fail)
    client.raise_request_exception = False

    body = error_body(send(client, token, referral()), 500, "server_error")

    assert fields(body) == ["request"]
    assert Contact.objects.count() == 0


# --- The ASGI body limit ------------------------------------------------------


def run_asgi(app, headers, chunks):
    """Call an ASGI app with one request; return (status, body, bodies seen by the app)."""
    import asyncio

    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": "/api/v1/referrals", "method": "POST", "headers": headers}
    asyncio.run(app(scope, receive, send))
    status = sent[0]["status"]
    return status, b"".join(m.get("body", b"") for m in sent[1:])


def test_asgi_limit_rejects_declared_length():
    from crisishub.api.asgi import ApiBodyLimit

    async def inner(scope, receive, send):
        raise AssertionError("the app must not run")

    status, body = run_asgi(ApiBodyLimit(inner, 100), [(b"content-length", b"3000000")], [b"x" * 10])

    assert status == 413
    jsonschema.validate(json.loads(body), openapi.ERROR_BODY)


def test_asgi_limit_counts_chunked_bytes():
    from crisishub.api.asgi import ApiBodyLimit

    seen = []

    async def inner(scope, receive, send):
        message = await receive()
        seen.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limited = ApiBodyLimit(inner, 100)
    small = run_asgi(limited, [], [b"a" * 40, b"b" * 40])
    large = run_asgi(limited, [], [b"a" * 60, b"b" * 60])

    assert small == (200, b"ok")
    assert seen == [b"a" * 40 + b"b" * 40]
    assert large[0] == 413


# --- A real server ------------------------------------------------------------


@pytest.fixture(scope="module")
def live_hub():
    from hub_server import HubServer

    server = HubServer(name="api-errors-hub", port=SERVER_PORT)
    server.start()
    try:
        token = server.run_django(
            "from crisishub.api.auth import create_partner\n"
            "result = create_partner('Live Error Test 988')[1]\n"
        )
        yield server, token
    finally:
        server.cleanup()


def raw_post(server, token, body: bytes, *, chunked: bool = False, path: str = REFERRALS,
             content_type: str = "application/json"):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "live-1", "Content-Type": content_type}
    try:
        if chunked:
            pieces = [body[i:i + 65536] for i in range(0, len(body), 65536)]
            connection.request("POST", path, body=iter(pieces), headers=headers, encode_chunked=True)
        else:
            connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("size", "chunked"),
    [(70_000, False), (3_000_000, False), (30_000_000, False), (3_000_000, True), (70_000, True)],
    ids=["70kB", "3MB", "30MB", "3MB-chunked", "70kB-chunked"],
)
def test_live_oversized_body_json_413(live_hub, size, chunked):
    server, token = live_hub
    body = b'{"safety_notes": "' + b"x" * size + b'"}'

    status, content_type, content = raw_post(server, token, body, chunked=chunked)

    assert status == 413
    assert content_type == "application/json"
    assert json.loads(content)["code"] == "too_large"


def test_live_small_chunked_body_accepted(live_hub):
    server, token = live_hub
    body = json.dumps(referral(priority=2, screening=None)).encode()

    status, _, content = raw_post(server, token, body, chunked=True)

    assert status == 201, content
    assert json.loads(content)["incident"]["priority"] == 2


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [("/api/x", 404, "not_found"), ("/api/v1/incidents/MR2026-000010", 405, "method_not_allowed"),
     ("/api/openapi.json", 405, "method_not_allowed")],
)
def test_live_api_errors_json(live_hub, path, status, code):
    server, token = live_hub

    got, content_type, content = raw_post(server, token, b"{}", path=path)

    assert got == status
    assert content_type == "application/json"
    assert json.loads(content)["code"] == code


def test_live_nested_body_400(live_hub):
    server, token = live_hub

    status, content_type, content = raw_post(server, token, b"[" * 5000 + b"]" * 5000)

    assert status == 400
    assert content_type == "application/json"
    assert json.loads(content)["code"] == "invalid_json"
