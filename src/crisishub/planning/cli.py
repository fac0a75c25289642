"""``crisishub plan``: demand profile, staffing, placement and simulation."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Each subcommand lives in its own module, which provides
# ``add_arguments(parser)`` and ``run(args) -> int``.
SUBCOMMANDS = {
    "profile": ("crisishub.planning.cli_profile", "Calls by hour of week, with plots."),
    "staffing": ("crisishub.planning.cli_staffing", "Erlang C/A call-center staffing."),
    "teams": ("crisishub.planning.cli_teams", "Mobile teams needed by hour of week."),
    "placement": ("crisishub.planning.cli_placement", "Where to station teams."),
    "simulate": ("crisishub.planning.cli_simulate", "What-if discrete-event simulation."),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crisishub plan", description=__doc__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        modules[name] = module
        module.add_arguments(commands.add_parser(name, help=help_text))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        status = modules[args.command].run(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader of stdout closed early (for example ``| head``). Point
        # stdout at devnull so the interpreter's final flush does not fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1
