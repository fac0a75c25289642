"""``crisishub report``: print the public (suppressed) report tables."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from crisishub.reports.periods import GROUPINGS, ReportInputError, ReportRange, parse_date


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crisishub report",
        description="Print the public report tables, with counts from 1 to 10 suppressed.",
    )
    parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD",
                        help="First day of the report, in the hub's time zone: the first day of a month "
                             "(or of a quarter with --group quarter).")
    parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD",
                        help="Last day of the report, included: the last day of a month (or of a quarter), "
                             "before the current one.")
    parser.add_argument("--group", choices=GROUPINGS, default="month",
                        help="Group rows by month or quarter (default month).")
    parser.add_argument("--format", choices=("json", "csv"), default="json",
                        help="Output format (default json).")
    return parser


def main(argv: list[str], setup: Callable[[], None]) -> int:
    """Parse the options, then call ``setup`` to start Django and print the report.

    The dates are checked before ``setup``, so a typo needs no database.
    """
    args = build_parser().parse_args(argv)
    try:
        report_range = ReportRange(
            parse_date(args.start, "--from"), parse_date(args.end, "--to"), args.group
        )
    except ReportInputError as error:
        print(f"crisishub report: {error}", file=sys.stderr)
        return 2
    setup()
    from django.utils import timezone

    from crisishub.reports.output import report_csv, report_json
    from crisishub.reports.queries import build_report

    try:
        report_range.check_complete(timezone.localdate())
    except ReportInputError as error:
        print(f"crisishub report: {error}", file=sys.stderr)
        return 2
    report = build_report(report_range)
    if args.format == "csv":
        text = report_csv(report)
    else:
        text = json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    return _write(text)


def _write(text: str) -> int:
    """Write ``text`` to standard output; a reader that closes the pipe
    early (``| head``) ends the command quietly, like other Unix tools."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does
        # not raise again on exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    return 0
