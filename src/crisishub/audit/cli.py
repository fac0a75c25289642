"""The ``crisishub audit`` command: check the audit trail.

Exit status of ``verify``: 0 when the chain is intact and the database
protection is installed, 1 when the chain is broken or lacks the expected
hash, 3 when the chain is intact but protection triggers are missing, and
2 on a usage or database error.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Callable

EXIT_BROKEN = 1
EXIT_ERROR = 2
EXIT_UNPROTECTED = 3


def _sha256_hex(text: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise argparse.ArgumentTypeError(
            f"invalid hash {text!r}: use the 64 lowercase hex digits that "
            "'crisishub audit verify' printed as the last hash"
        )
    return text


def main(argv: list[str], setup: Callable[[], None]) -> int:
    """Parse the options, then call ``setup`` to start Django and run the check.

    A missing data folder is an error rather than created empty, because
    ``verify`` only reads the database.
    """
    parser = argparse.ArgumentParser(
        prog="crisishub audit", description="Check the audit trail."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    verify = commands.add_parser(
        "verify",
        help="Check every entry's hash and link, and report the first changed "
        "or missing entry.",
    )
    verify.add_argument(
        "--expect-hash", type=_sha256_hex, metavar="HASH",
        help="A last hash printed by an earlier run; fail unless the trail still "
        "contains the entry with this hash.",
    )
    verify.add_argument(
        "--database", default="default",
        help="Django database alias (default 'default').",
    )
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR

    from crisishub import datadir

    create_allowed = datadir.create_allowed
    datadir.create_allowed = False
    try:
        setup()
    finally:
        datadir.create_allowed = create_allowed
    from django.conf import settings

    if settings.DATA_DIR_NEEDED and not settings.DATA_DIR.is_dir():
        message = datadir.missing_message(settings.DATA_DIR, "audit verify")
        print(f"crisishub audit: {message}", file=sys.stderr)
        return EXIT_ERROR
    return run_verify(args.database, args.expect_hash)


def run_verify(using: str, expect_hash: str | None = None) -> int:
    from django.db import DatabaseError, connections

    from crisishub.audit import protection
    from crisishub.audit.chain import verify_chain
    from crisishub.audit.models import AuditEntry

    if using not in connections:
        print(
            f"crisishub audit verify: unknown database alias {using!r}; "
            f"use one of: {', '.join(connections)}.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    connection = connections[using]
    try:
        report = verify_chain(using)
        expected_found = expect_hash is None or (
            AuditEntry.objects.using(using).filter(entry_hash=expect_hash).exists()
        )
        installed = protection.installed_triggers(connection)
    except DatabaseError as error:
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        print(
            f"crisishub audit verify: cannot read the audit trail: {reason}. "
            "Check DATABASE_URL, and run 'crisishub setup' to migrate.",
            file=sys.stderr,
        )
        return EXIT_ERROR

    if not report.intact:
        print(f"Audit trail broken: {report.problem.message}")
        print(f"Checked {report.entry_count} entries up to entry {report.last_id}.")
        return EXIT_BROKEN
    if not expected_found:
        print(
            f"Audit trail broken: no entry has the expected hash {expect_hash}, "
            "so that entry, or the entries up to it, were deleted or rewritten."
        )
        return EXIT_BROKEN
    if report.entry_count:
        print(
            f"Audit trail intact: {report.entry_count} entries, "
            f"ids {report.first_id} to {report.last_id}."
        )
    else:
        print("Audit trail intact: no entries.")
    # Kept outside the database, this hash lets a later run with
    # --expect-hash show deleted or rewritten newest entries.
    print(f"Last hash: {report.last_hash}")
    missing = [name for name in protection.trigger_names(connection) if name not in installed]
    if missing:
        print(
            f"Database protection missing: triggers {', '.join(missing)} are not "
            "installed; run 'crisishub manage migrate' to install them again."
        )
        return EXIT_UNPROTECTED
    return 0
