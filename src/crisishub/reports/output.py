"""Public forms of a report: rows for the page, CSV and JSON.

Only published values leave this module: a suppressed count, share or
median is the mark SUPPRESSED_MARK, never its value.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils.translation import pgettext
from django.utils.translation import gettext_lazy as _

from crisishub.reports.queries import CountTable, MedianTable, Report, area_labels
from crisishub.reports.suppression import Entry

SUPPRESSED_MARK = "*"

FOOTNOTE = _(
    "* Suppressed: the count is from 1 to 10, or it is hidden so that such a count cannot be "
    "worked out from the totals or from the other tables, months and quarters. A 0 is a true "
    "zero. A zero is suppressed too when every other count in its row or column is suppressed, "
    "because it would show that everyone there had the suppressed outcome. A percentage is "
    "shown only when its count and its row total are both shown, and it is the share of the "
    "row total. Each period is suppressed on its own records, so \"All\" is the total of one "
    "period and no total spans several periods."
)


@dataclass(frozen=True)
class CellView:
    count: str
    share: str
    suppressed: bool


def format_share(share: float | None) -> str:
    """Format a share as a percentage with one decimal, '' when there is none.

    A share above zero that would round to 0.0% is shown as '<0.1%', so a
    published non-zero count never reads as zero.
    """
    if share is None:
        return ""
    if 0 < share < 0.0005:
        return "<0.1%"
    return f"{share * 100:.1f}%"


def _cell(entry: Entry, share: float | None) -> CellView:
    if not entry.published:
        return CellView(SUPPRESSED_MARK, "", True)
    return CellView(str(entry.value), format_share(share), False)


def count_table_rows(table: CountTable, report: Report) -> list[dict[str, Any]]:
    """Return one dict per period and area, each period followed by its
    all-areas row, each with its cells and total."""
    areas = area_labels()
    found = []
    for period in table.periods:
        result = period.result
        rows, columns = result.shape
        label = report.period_label(period.first)
        for i in range(rows + 1):
            if i < rows:
                area, cells, total = areas[i], result.cells[i], result.row_totals[i]
            else:
                area, cells, total = pgettext("areas", "All"), result.column_totals, result.grand_total
            found.append({
                "period": label,
                "area": area,
                "is_total": i == rows,
                "cells": [_cell(cells[j], result.row_share(i, j)) for j in range(columns)],
                "total": _cell(total, None),
            })
    return found


def median_table_rows(table: MedianTable, report: Report) -> list[dict[str, Any]]:
    """Return one dict per period and area, each period followed by its all-areas row."""
    areas = area_labels()
    found = []
    for period in table.periods:
        label = report.period_label(period.first)
        named = [*zip(areas, period.values), (pgettext("areas", "All"), period.total)]
        for n, (area, values) in enumerate(named):
            cells = []
            for median, count in values:
                public = table.public_median(median, count)
                if median is not None and public is None:
                    cells.append(CellView(SUPPRESSED_MARK, "", True))
                else:
                    cells.append(CellView("" if public is None else f"{public:.1f}", "", False))
            found.append({"period": label, "area": area, "cells": cells, "is_total": n == len(areas)})
    return found


CSV_HEADER = ["table", "period", "area", "column", "count", "percent_of_row", "median_minutes"]


def report_csv(report: Report) -> str:
    """Return the report's public tables as one CSV, one line per cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for table in report.count_tables:
        column_names = [key for key, _label in table.columns] + ["total"]
        for row in count_table_rows(table, report):
            for name, cell in zip(column_names, [*row["cells"], row["total"]]):
                writer.writerow([table.key, row["period"], row["area"], name, cell.count, cell.share, ""])
    table = report.median_table
    for row in median_table_rows(table, report):
        for (key, _label), cell in zip(table.columns, row["cells"]):
            writer.writerow([table.key, row["period"], row["area"], key, "", "", cell.count])
    return buffer.getvalue()


def report_json(report: Report) -> dict[str, Any]:
    """Return the report's public tables, footnote and notes as JSON-ready data."""
    def cell_data(cell: CellView) -> dict[str, Any]:
        if cell.suppressed:
            return {"count": None, "percent": None, "suppressed": True}
        return {"count": int(cell.count), "percent": cell.share or None, "suppressed": False}

    tables = []
    for table in report.count_tables:
        tables.append({
            "key": table.key,
            "title": str(table.title),
            "population": str(table.population),
            "columns": [{"key": key, "label": str(label)} for key, label in table.columns],
            "rows": [
                {
                    "period": row["period"], "area": row["area"], "is_total": row["is_total"],
                    "cells": [cell_data(cell) for cell in row["cells"]],
                    "total": cell_data(row["total"]),
                }
                for row in count_table_rows(table, report)
            ],
            "notes": [str(note) for note in table.notes],
        })
    medians = report.median_table
    return {
        "from": report.range.start.isoformat(),
        "to": report.range.end.isoformat(),
        "group": report.range.grouping,
        "tables": tables,
        "response_minutes": {
            "title": str(medians.title),
            "columns": [{"key": key, "label": str(label)} for key, label in medians.columns],
            "rows": [
                {
                    "period": row["period"], "area": row["area"],
                    "medians": [
                        None if cell.suppressed or not cell.count else float(cell.count)
                        for cell in row["cells"]
                    ],
                    "suppressed": [cell.suppressed for cell in row["cells"]],
                }
                for row in median_table_rows(medians, report)
            ],
            "notes": [str(note) for note in medians.notes],
        },
        "footnote": str(FOOTNOTE),
        "notes": [str(note) for note in report.notes],
    }
