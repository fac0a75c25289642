"""List follow-up tasks due soon, after escalating overdue high-risk ones.

Run it from a scheduler (cron, a systemd timer) so escalations reach
supervisors even while nobody opens the follow-up pages. The output names
tasks and contacts by id only, never a caller's name or phone.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crisishub.audit.context import acting_as
from crisishub.followup import services
from crisishub.followup.models import ACTIVE_STATUSES, FollowUpTask

MAX_HOURS = 24 * 30


class Command(BaseCommand):
    help = "Escalate overdue high-risk follow-ups, then list active follow-ups due within --hours."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24,
                            help=f"list tasks due within this many hours, 0 to {MAX_HOURS} (default 24)")
        parser.add_argument("--format", choices=("table", "json"), default="table",
                            help="output format (default table)")

    def handle(self, *args, hours: int, format: str, **options):
        if not 0 <= hours <= MAX_HOURS:
            raise CommandError(f"--hours {hours} is out of range; give 0 to {MAX_HOURS}.")
        now = timezone.now()
        with acting_as(label="followup_due command"):
            escalated = services.escalate_overdue(at=now)
        tasks = (FollowUpTask.objects.filter(status__in=ACTIVE_STATUSES,
                                             due_at__lte=now + dt.timedelta(hours=hours))
                 .order_by("due_at", "id"))
        rows = [{
            "task": task.pk, "contact": task.contact_id, "status": task.status,
            "high_risk": task.high_risk, "due_at": task.due_at.isoformat(),
            "overdue": task.due_at < now, "attempts": task.attempts.count(),
            "max_attempts": task.max_attempts,
        } for task in tasks]
        if format == "json":
            self.stdout.write(json.dumps({"escalated_now": escalated, "due": rows}, indent=2))
            return
        self.stdout.write(f"Escalated now: {escalated}")
        self.stdout.write(f"Due within {hours} h: {len(rows)}")
        for row in rows:
            flags = " ".join(flag for flag, on in (("OVERDUE", row["overdue"]), ("HIGH-RISK", row["high_risk"])) if on)
            self.stdout.write(
                f"task {row['task']:>6}  contact {row['contact']:>6}  due {row['due_at']}  "
                f"{row['status']:<9}  attempts {row['attempts']}/{row['max_attempts']}  {flags}".rstrip()
            )
