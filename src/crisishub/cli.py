"""The ``crisishub`` command: start the hub, replay events, plan."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable


class StartError(Exception):
    """A problem the user can fix, printed as one line without a traceback."""


def _setup_django() -> None:
    from crisishub.core.errors import SettingError

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")
    import django

    try:
        django.setup()
    except SettingError as error:
        raise StartError(str(error)) from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: use a whole number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: use 1 to 65535")
    return port


def _use_temporary_database() -> None:
    """Point Django at a new SQLite file, so a replay never touches live data."""
    import atexit
    import shutil
    import tempfile

    directory = tempfile.mkdtemp(prefix="crisishub-replay-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/replay.sqlite3"
    os.environ.setdefault("CRISISHUB_DATA_DIR", directory)


# Management commands that write the data folder, so they may create it.
CREATING_COMMANDS = frozenset({"migrate", "collectstatic"})
# Arguments that only print help or the version, which needs no data folder.
HELP_ARGUMENTS = frozenset({"help", "--help", "-h", "version", "--version"})


def _manage(args: list[str]) -> int:
    """Run a Django management command.

    A command that only reads the data folder stops with a clear error when
    the folder is missing, instead of creating an empty one.
    """
    from crisishub import datadir

    command = args[0] if args else "help"
    datadir.create_allowed = command in CREATING_COMMANDS
    _setup_django()
    if command not in CREATING_COMMANDS and not HELP_ARGUMENTS.intersection(args or ["help"]):
        _require_data_dir(f"manage {command}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["crisishub manage", *args])
    return 0


def _read_only_setup(command: str) -> Callable[[], None]:
    """Return the Django start-up of ``command``, which reads the data
    folder, so it stops with a clear error where the folder is missing."""

    def setup() -> None:
        from crisishub import datadir

        datadir.create_allowed = False
        _setup_django()
        _require_data_dir(command)

    return setup


def _require_data_dir(command: str) -> None:
    from django.conf import settings

    from crisishub import datadir

    if settings.DATA_DIR_NEEDED and not settings.DATA_DIR.is_dir():
        raise StartError(datadir.missing_message(settings.DATA_DIR, command))


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except StartError as error:
        print(f"crisishub: {error}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "plan":
        # Planning needs no Django, so it starts without a database.
        from crisishub.planning.cli import main as plan_main

        return plan_main(argv[1:])
    if argv and argv[0] == "audit":
        from crisishub.audit.cli import main as audit_main

        return audit_main(argv[1:], setup=_read_only_setup("audit"))
    if argv and argv[0] == "report":
        from crisishub.reports.cli import main as report_main

        return report_main(argv[1:], setup=_read_only_setup("report"))
    if argv and argv[0] == "manage":
        return _manage(argv[1:])

    parser = argparse.ArgumentParser(
        prog="crisishub",
        description="Crisis call center hub: intake, triage, dispatch, planning.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="Migrate the database, load the data pack and start the hub."
    )
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port to listen on, 1 to 65535 (default 8000).")
    serve.add_argument(
        "--no-demo", action="store_true", help="Do not create demo staff and teams."
    )
    commands.add_parser(
        "setup", help="Migrate the database and load the data pack, then exit."
    )
    replay = commands.add_parser(
        "replay", help="Replay crisis events through the hub in simulated time."
    )
    from crisishub.replay.cli import add_arguments as add_replay_arguments

    add_replay_arguments(replay)
    commands.add_parser("plan", help="Planning tools; see 'crisishub plan --help'.")
    commands.add_parser("manage", help="Run a Django management command.")
    commands.add_parser("report", help="Print the public report tables; see 'crisishub report --help'.")
    commands.add_parser("audit", help="Check the audit trail; see 'crisishub audit --help'.")

    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2

    if args.command == "replay" and not args.database:
        _use_temporary_database()
    elif args.command == "replay":
        from crisishub.replay.cli import InputError, check_database_url

        try:
            check_database_url(args.database)
        except InputError as error:
            print(f"crisishub replay: {error}", file=sys.stderr)
            return 2
        os.environ["DATABASE_URL"] = args.database
        from crisishub import datadir

        # The replay writes only to the given database.
        datadir.create_allowed = False
    _setup_django()
    if args.command in ("serve", "setup"):
        return _start(args)
    if args.command == "replay":
        from crisishub.replay.cli import run as run_replay

        return run_replay(args)
    parser.error(f"unknown command {args.command!r}")
    return 2


def _start(args: argparse.Namespace) -> int:
    """Run ``serve`` or ``setup``; a database or port problem is one line."""
    from django.db import DatabaseError

    from crisishub.core.errors import SettingError
    from crisishub.core.setup import ListenError, prepare_database, run_server

    try:
        if args.command == "setup":
            prepare_database(demo=True)
            return 0
        return run_server(host=args.host, port=args.port, demo=not args.no_demo)
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StartError(
            f"cannot prepare the database: {reason}. Check DATABASE_URL or CRISISHUB_DATA_DIR."
        ) from None
    except (ListenError, SettingError) as error:
        raise StartError(str(error)) from None


if __name__ == "__main__":
    sys.exit(main())
