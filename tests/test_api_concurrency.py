"""Two retries of one referral arriving at once, on separate database
connections, create one referral and get the same response."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from crisishub.api.auth import create_partner
from crisishub.core.models import Contact, IdempotencyRecord, Incident

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {
    "location": {"latitude": 38.576594, "longitude": -121.432144, "precision": "device"},
    "priority": 2,
}


def post_together(token: str, bodies: list[dict], key: str) -> list:
    barrier = threading.Barrier(len(bodies))
    responses: list = [None] * len(bodies)

    def send(index: int, body: dict) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            responses[index] = client.post(
                "/api/v1/referrals", data=json.dumps(body), content_type="application/json",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return responses


def test_simultaneous_retries_create_one(reference_data):
    _, token = create_partner("Race 988")

    responses = post_together(token, [BODY, BODY, BODY], key="race-key")

    assert [r.status_code for r in responses] == [201, 201, 201]
    bodies = [r.json() for r in responses]
    assert bodies[0] == bodies[1] == bodies[2]
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 2
    assert Contact.objects.count() == 1
    assert Incident.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_simultaneous_different_bodies_one_wins(reference_data):
    _, token = create_partner("Race 988")
    other = dict(BODY, priority=1)

    responses = post_together(token, [BODY, other], key="race-key-2")

    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 422]
    loser = next(r for r in responses if r.status_code == 422)
    assert loser.json()["code"] == "idempotency_key_reused"
    assert Contact.objects.count() == 1
