"""Template context of the reports page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crisishub.reports.output import FOOTNOTE, count_table_rows, median_table_rows
from crisishub.reports.periods import ReportRange
from crisishub.reports.queries import build_report


def report_context(report_range: ReportRange) -> dict[str, Any]:
    """Build the report and the rows the template shows."""
    report = build_report(report_range)
    return {
        "report": report,
        "count_tables": [
            {"table": table, "rows": count_table_rows(table, report)} for table in report.count_tables
        ],
        "median_table": {"table": report.median_table, "rows": median_table_rows(report.median_table, report)},
        "footnote": FOOTNOTE,
        "csv_query": urlencode({
            "start": report_range.start.isoformat(),
            "end": report_range.end.isoformat(),
            "group": report_range.grouping,
            "download": "csv",
        }),
    }
