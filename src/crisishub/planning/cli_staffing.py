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
                  --aht is used where the column is missing or a cell is blank)
All intervals have the length given by --interval.

Service level is the share of all offered calls that are answered within
--target-seconds. With --patience (Erlang A), calls that abandon count as
not answered within the target, so they lower the service level.

Allowed ranges: --calls 0 to {max_calls:,}; --interval 1 to {max_minutes:,}
minutes; --aht, --patience above 0 to {max_minutes:,} minutes;
--target-seconds 0 to {max_target:,}; --agents 1 to {max_agents:,}; offered
load (calls x aht / interval) up to {max_load:,} erlangs per interval.
"""

# Upper bounds keep every run short: at the maximum load a run took about 6 s,
# start-up included, on a 2-core machine. They are far above any crisis call
# center, because 10,000 erlangs is 10,000 agents busy at once.
MAX_CALLS = 1_000_000
MAX_MINUTES = 1_440.0
MAX_TARGET_SECONDS = 3_600.0
MAX_AGENTS = 100_000
MAX_LOAD = 10_000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Minimum agents per interval for a service-level target, with Erlang "
        "C, or Erlang A when --patience is given."
    )
    parser.epilog = _EPILOG.format(
        max_calls=MAX_CALLS,
        max_minutes=int(MAX_MINUTES),
        max_target=int(MAX_TARGET_SECONDS),
        max_agents=MAX_AGENTS,
        max_load=int(MAX_LOAD),
    )
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
        "--agents",
        type=int,
        help="Evaluate this many agents in every interval instead of searching "
        "for the minimum; the targets are then only reported (meets_target).",
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
    if not rows:
        raise ValueError(f"intervals file {path} has a header but no data rows: add rows")
    if "aht" in columns:
        aht = np.array([_aht_cell(row["aht"], args.aht, path, i) for i, row in enumerate(rows)])
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


def _aht_cell(text: str | None, default: float | None, path: Path, index: int) -> float:
    if text is None or not text.strip():
        if default is None:
            raise ValueError(
                f"blank aht in data row {index + 1} of {path}: fill it in or pass --aht MINUTES"
            )
        return default
    return _number(text, "aht", index)


def _validate(args: argparse.Namespace, calls: np.ndarray, aht: np.ndarray) -> None:
    bad_calls = ~np.isfinite(calls) | (calls < 0) | (calls > MAX_CALLS)
    if np.any(bad_calls):
        where = _row_text(args, int(np.flatnonzero(bad_calls)[0]))
        raise ValueError(
            f"invalid --calls {calls[bad_calls][0]:g}{where}: use 0 to {MAX_CALLS:,}"
        )
    if not 1.0 <= args.interval <= MAX_MINUTES:
        raise ValueError(
            f"invalid --interval {args.interval:g}: use 1 to {MAX_MINUTES:g} minutes"
        )
    bad_aht = ~((aht > 0) & (aht <= MAX_MINUTES))
    if np.any(bad_aht):
        where = _row_text(args, int(np.flatnonzero(bad_aht)[0]))
        raise ValueError(
            f"invalid AHT {aht[bad_aht][0]:g}{where}: use minutes above 0 and "
            f"up to {MAX_MINUTES:g} (--aht or the aht column)"
        )
    if not 0.0 <= args.target_seconds <= MAX_TARGET_SECONDS:
        raise ValueError(
            f"invalid --target-seconds {args.target_seconds:g}: use 0 to "
            f"{MAX_TARGET_SECONDS:g} seconds"
        )
    erlang.validate_inputs(calls, args.interval, aht, args.target_seconds, args.service_level)
    load = erlang.offered_load(calls, args.interval, aht)
    if np.any(load > MAX_LOAD):
        index = int(np.argmax(load))
        raise ValueError(
            f"offered load {load[index]:,.0f} erlangs{_row_text(args, index)} is above "
            f"{MAX_LOAD:,.0f} (calls x aht / interval): lower --calls or --aht, or "
            "use a longer --interval"
        )
    if args.patience is not None and not 0.0 < args.patience <= MAX_MINUTES:
        raise ValueError(
            f"invalid --patience {args.patience:g}: use minutes above 0 and up to "
            f"{MAX_MINUTES:g}"
        )
    if args.agents is not None and not 1 <= args.agents <= MAX_AGENTS:
        raise ValueError(f"invalid --agents {args.agents}: use 1 to {MAX_AGENTS:,}")
    if not 0.0 <= args.shrinkage < 1.0:
        raise ValueError(f"invalid --shrinkage {args.shrinkage}: use a value in [0, 1)")
    if args.max_occupancy is not None and not 0.0 < args.max_occupancy <= 1.0:
        raise ValueError(f"invalid --max-occupancy {args.max_occupancy}: use a value in (0, 1]")


def _row_text(args: argparse.Namespace, index: int) -> str:
    return "" if args.calls is not None else f" in data row {index + 1}"


def _evaluate(load, aht, args, goal: erlang.StaffingGoal):
    """Return the metrics at --agents, or at the minimum that meets ``goal``."""
    if args.agents is None:
        return erlang.required_agents(load, aht, goal, patience=args.patience)
    agents = np.full(load.shape, args.agents, dtype=np.int64)
    if args.patience is None:
        return erlang.erlang_c_metrics(agents, load, aht, goal.target_time)
    return erlang.erlang_a_metrics(agents, load, aht, args.patience, goal.target_time)


def _rows(args, labels, calls, aht) -> list[dict]:
    load = erlang.offered_load(calls, args.interval, aht)
    goal = erlang.StaffingGoal(
        target_time=args.target_seconds / 60.0,
        service_level=args.service_level,
        max_occupancy=args.max_occupancy,
    )
    found = _evaluate(load, aht, args, goal)
    meets = erlang.meets_goal(found, goal) if args.agents is not None else None
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
        if meets is not None:
            row["meets_target"] = bool(meets[i])
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
