"""Follow-up attempts under real concurrency: threads on separate database
connections record the final outcome of one task at the same time.

Runs on SQLite (IMMEDIATE transactions serialize writers) and PostgreSQL
(the task row lock).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from crisishub.core.errors import Conflict
from crisishub.core.models import Contact
from crisishub.core.services import triage
from crisishub.followup import services
from crisishub.followup.models import FollowUpAttempt, FollowUpTask, TaskStatus

pytestmark = pytest.mark.django_db(transaction=True)

HIGH = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
ROUNDS = 3


def race(*calls):
    """Run each call in its own thread, released together; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing thread did not finish within 60 s"
    return results


@pytest.fixture
def slow_lock(monkeypatch):
    """Hold the task row lock for 0.2 s, so the rival attempt arrives while
    the first transaction is still open."""
    original = services._lock_task

    def lock_then_wait(task_id):
        task = original(task_id)
        time.sleep(0.2)
        return task

    monkeypatch.setattr(services, "_lock_task", lock_then_wait)


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_final_outcomes_one_wins(make_contact, at, slow_lock, round_number):
    contact = make_contact()
    triage.do_record_screening(contact, cssrs_answers=HIGH, at=at(1))
    contact.status = Contact.Status.CLOSED
    contact.ended_at = at(20)
    contact.save(update_fields=["status", "ended_at"])
    task = FollowUpTask.objects.get(contact=contact)
    for minute in range(2):
        services.record_attempt(task.pk, "no_answer", at=at(30 + minute))

    results = race(
        lambda: services.record_attempt(task.pk, "reached", at=at(40) + dt.timedelta(seconds=1)),
        lambda: services.record_attempt(task.pk, "declined", at=at(40) + dt.timedelta(seconds=2)),
    )

    conflicts = [r for r in results if isinstance(r, Conflict)]
    saved = [r for r in results if isinstance(r, FollowUpAttempt)]
    assert len(saved) == 1, results
    assert len(conflicts) == 1, results
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert task.attempts.count() == 3
    assert task.attempts.filter(outcome__in=["reached", "declined"]).count() == 1
