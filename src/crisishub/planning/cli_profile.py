"""``crisishub plan profile``: calls and mobile responses by hour of week."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from crisishub.planning import profile as demand
from crisishub.planning._output import emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Print expected calls and mobile responses for each of the 168 hours "
        "of a week. Without --timestamps the shape is the borrowed Toronto "
        "crisis-call profile, which the output names in its source and note."
    )
    parser.add_argument(
        "--timestamps",
        metavar="FILE",
        help="CSV file with one ISO 8601 timestamp per call (local time).",
    )
    parser.add_argument(
        "--column",
        default="timestamp",
        help="Name of the timestamp column in --timestamps (default: timestamp).",
    )
    parser.add_argument(
        "--hour-column",
        metavar="NAME",
        help="Read --timestamps as a date column (--date-column) and this hour "
        "column (0-23, NA counted as midnight), as in the Toronto extract.",
    )
    parser.add_argument(
        "--date-column",
        default="event_date",
        metavar="NAME",
        help="Date column (YYYY-MM-DD) used with --hour-column (default: event_date).",
    )
    parser.add_argument(
        "--mobile-timestamps",
        metavar="FILE",
        help="CSV of mobile-response timestamps (same --column); "
        "replaces --mobile-share.",
    )
    parser.add_argument(
        "--hub",
        action="store_true",
        help="Read call times (Contact.offered_at) and mobile response times "
        "(Incident.t0) from the hub's database (DATABASE_URL), in its local time "
        "zone (CRISISHUB_TIME_ZONE).",
    )
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument(
        "--weekly-calls",
        type=float,
        help="Scale the profile to this many calls per week.",
    )
    volume.add_argument(
        "--annual-calls",
        type=float,
        help="Scale the profile to this many calls per year (365.25 days).",
    )
    parser.add_argument(
        "--mobile-share",
        type=float,
        default=0.2,
        help="Share of calls that need a mobile response, 0 to 1 "
        "(default: 0.2, a planning assumption).",
    )
    parser.add_argument(
        "--heatmap", metavar="OUT", help="Write a 7 x 24 heat map (.png or .svg)."
    )
    parser.add_argument(
        "--curve", metavar="OUT", help="Write the weekly curve (.png or .svg)."
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")


def hub_timestamps() -> tuple[list, list]:
    """Return local call and mobile response times from the hub's database."""
    import os
    import zoneinfo

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")
    import django

    django.setup()
    from django.conf import settings

    from crisishub.core.models import Contact, Incident

    from django.db import DatabaseError

    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    try:
        calls = list(Contact.objects.values_list("offered_at", flat=True))
        mobile = list(Incident.objects.values_list("t0", flat=True))
    except DatabaseError as error:
        raise ValueError(
            f"cannot read the hub's database ({error}): check DATABASE_URL and "
            "run 'crisishub manage migrate'"
        ) from None
    return (
        [moment.astimezone(zone) for moment in calls],
        [moment.astimezone(zone) for moment in mobile],
    )


def _load(args: argparse.Namespace) -> tuple[demand.DemandProfile, object]:
    if args.hub:
        if args.timestamps:
            raise ValueError("--hub and --timestamps exclude each other: pass one")
        calls, mobile = hub_timestamps()
        if not calls:
            raise ValueError(
                "the hub's database has no call records: use the borrowed "
                "profile (no --hub) or --timestamps FILE"
            )
        return (
            demand.profile_from_timestamps(calls, source="this hub's call records"),
            demand.profile_from_timestamps(mobile, source="this hub's incidents")
            if mobile
            else None,
        )
    if args.timestamps and args.hour_column:
        calls = demand.read_date_hour_csv(
            args.timestamps, args.date_column, args.hour_column
        )
    elif args.timestamps:
        values = demand.read_timestamps_csv(args.timestamps, args.column)
        calls = demand.profile_from_timestamps(values, source=args.timestamps)
    else:
        calls = demand.toronto_profile()
    mobile = None
    if args.mobile_timestamps:
        values = demand.read_timestamps_csv(args.mobile_timestamps, args.column)
        mobile = demand.profile_from_timestamps(values, source=args.mobile_timestamps)
    return calls, mobile


def _weekly(args: argparse.Namespace) -> float | None:
    max_weekly = demand.MAX_WEEKLY_VOLUME
    if args.annual_calls is not None:
        max_annual = max_weekly * 365.25 / 7.0
        if not 0 <= args.annual_calls <= max_annual:
            raise ValueError(
                f"invalid --annual-calls {args.annual_calls:g}: use 0 to {max_annual:,.0f}"
            )
        return demand.weekly_from_annual(args.annual_calls)
    if args.weekly_calls is not None and not 0 <= args.weekly_calls <= max_weekly:
        raise ValueError(f"invalid --weekly-calls {args.weekly_calls:g}: use 0 to {max_weekly:,.0f}")
    return args.weekly_calls


def _plot(args: argparse.Namespace, result: dict) -> None:
    hours = result["hours"]
    calls = np.array([row["calls"] for row in hours]).reshape(7, 24)
    mobile = np.array([row["mobile_responses"] for row in hours]).reshape(7, 24)
    local = args.timestamps or args.hub
    label = "local data" if local else "borrowed Toronto profile"
    if args.heatmap:
        demand.plot_heatmap(calls, args.heatmap, f"Calls by hour of week ({label})")
    if args.curve:
        demand.plot_curve(calls, mobile, args.curve, f"Weekly demand ({label})")


def run(args: argparse.Namespace) -> int:
    try:
        calls, mobile = _load(args)
        result = demand.summarize(calls, _weekly(args), args.mobile_share, mobile)
        _plot(args, result)
    except (ValueError, OSError) as error:
        print(f"crisishub plan profile: error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        emit(result, "json")
        return 0
    for key in ("source", "note", "weekly_calls", "weekly_mobile_responses"):
        print(f"{key}: {result[key]}")
    emit(result["hours"], "table")
    return 0
