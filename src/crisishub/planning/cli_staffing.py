"""``crisishub plan staffing``: Erlang C or Erlang A agents per interval."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from crisishub.planning import erlang
from crisishub.planning._output import emit

_EPILOG = """\
Intervals CSV (--intervals FILE): one row per interval, with a header.
  interval_start  label of the interval, for example 2024-05-06T08:00
                  (optional; rename with --start-column)
  calls           calls offered in the interval (required; rename with
                  --calls-column)
  aht             mean handle time in minutes for that interval (optional;
                  --aht is used where the column is missing)
All intervals have the length given by --interval.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Minimum agents per interval for a service-level target, with Erlang "
        "C, or Erlang A when --patience is given."
    )
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--calls", type=float, help="Calls offered in one interval.")
    source.add_argument(
        "--intervals", metavar="FILE", help="CSV of intervals (columns below)."
    )
    parser.add_argument(
        "--interval", type=float, default=30.0, help="Interval length in minutes (default: 30)."
    )
    parser.add_argument(
        "--aht", type=float, default=None, help="Mean handle time in minutes (talk + wrap-up)."
    )
    parser.add_argument(
        "--target-seconds",
        type=float,
        default=20.0,
        help="Answer-time target in seconds (default: 20).",
    )
    parser.add_argument(
        "--service-level",
        type=float,
        default=0.8,
        help="Share of calls to answer within the target, between 0 and 1 (default: 0.8).",
    )
    parser.add_argument(
        "--patience",
        type=float,
        help="Mean caller patience in minutes; switches to Erlang A (exponential patience).",
    )
    parser.add_argument(
        "--shrinkage",
        type=float,
        default=0.0,
        help="Share of paid time not on calls (breaks, training), in [0, 1) (default: 0).",
    )
    parser.add_argument(
        "--max-occupancy",
        type=float,
        help="Maximum share of time agents are busy, in (0, 1].",
    )
    parser.add_argument("--calls-column", default="calls", help="Calls column name.")
    parser.add_argument(
        "--start-column", default="interval_start", help="Interval label column name."
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")


def _read_intervals(args: argparse.Namespace) -> tuple[list[str], np.ndarray, np.ndarray]:
    path = Path(args.intervals)
    if not path.is_file():
        raise ValueError(f"intervals file {path} not found: check the path")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if args.calls_column not in columns:
            raise ValueError(
                f"column {args.calls_column!r} not found in {path} (columns: "
                f"{', '.join(columns) or 'none'}): add it or pass --calls-column"
            )
        rows = list(reader)
    labels = [row.get(args.start_column, str(i)) or str(i) for i, row in enumerate(rows)]
    calls = np.array([_number(row[args.calls_column], "calls", i) for i, row in enumerate(rows)])
    if "aht" in columns:
        aht = np.array([_number(row["aht"], "aht", i) for i, row in enumerate(rows)])
    elif args.aht is None:
        raise ValueError(f"no 'aht' column in {path}: add one or pass --aht MINUTES")
    else:
        aht = np.full(calls.shape, args.aht)
    return labels, calls, aht


def _number(text: str | None, column: str, index: int) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"invalid {column} value {text!r} in data row {index + 1}: use a number"
        ) from None


def _validate(args: argparse.Namespace, calls: np.ndarray, aht: np.ndarray) -> None:
    erlang.validate_inputs(calls, args.interval, aht, args.target_seconds, args.service_level)
    if args.patience is not None and not args.patience > 0:
        raise ValueError(f"invalid --patience {args.patience}: use minutes above 0")
    if not 0.0 <= args.shrinkage < 1.0:
        raise ValueError(f"invalid --shrinkage {args.shrinkage}: use a value in [0, 1)")
    if args.max_occupancy is not None and not 0.0 < args.max_occupancy <= 1.0:
        raise ValueError(f"invalid --max-occupancy {args.max_occupancy}: use a value in (0, 1]")


def _rows(args, labels, calls, aht) -> list[dict]:
    load = erlang.offered_load(calls, args.interval, aht)
    goal = erlang.StaffingGoal(
        target_time=args.target_seconds / 60.0,
        service_level=args.service_level,
        max_occupancy=args.max_occupancy,
    )
    found = erlang.required_agents(load, aht, goal, patience=args.patience)
    positions = erlang.positions_after_shrinkage(found.agents, args.shrinkage)
    rows = []
    for i in range(load.size):
        row = {} if labels is None else {"interval_start": labels[i]}
        row |= {
            "calls": float(calls[i]),
            "load_erlangs": float(load[i]),
            "agents": int(found.agents[i]),
            "positions": int(positions[i]),
            "service_level": float(found.service_level[i]),
            "wait_probability": float(found.wait_probability[i]),
            "asa_seconds": float(found.asa[i] * 60.0),
            "occupancy": float(found.occupancy[i]),
        }
        if args.patience is not None:
            row["abandon_probability"] = float(found.abandon_probability[i])
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    try:
        if args.calls is not None:
            if args.aht is None:
                raise ValueError("missing --aht: pass the mean handle time in minutes")
            labels = None
            calls = np.array([args.calls])
            aht = np.array([args.aht])
        else:
            labels, calls, aht = _read_intervals(args)
        _validate(args, calls, aht)
        rows = _rows(args, labels, calls, aht)
    except (ValueError, OSError) as error:
        print(f"crisishub plan staffing: error: {error}", file=sys.stderr)
        return 2
    emit(rows[0] if args.calls is not None else rows, args.format)
    return 0
