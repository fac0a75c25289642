#!/usr/bin/env python3
"""Install crisishub into ./.venv and run it or its tests.

    python3 dev.py start [serve options]   install, then start the hub
    python3 dev.py test [pytest options]   install test tools, then run the suite

Needs only Python 3.11 or newer. The tests run on SQLite; when
DATABASE_URL names a PostgreSQL database they run there afterwards too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"crisishub needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not (BIN / "python").exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    target = f".[{extras}]" if extras else "."
    print(f"Installing crisishub{'[' + extras + ']' if extras else ''} into {VENV}", flush=True)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target],
        cwd=ROOT, check=True,
    )
    stamp.touch()


def run_tests(pytest_args: list[str]) -> int:
    env = dict(os.environ)
    postgres_url = env.pop("DATABASE_URL", "")
    print("== Test suite on SQLite ==", flush=True)
    code = subprocess.run([str(BIN / "pytest"), *pytest_args], cwd=ROOT, env=env).returncode
    if postgres_url.startswith(("postgres://", "postgresql://")):
        print("== Test suite on PostgreSQL ==", flush=True)
        env["DATABASE_URL"] = postgres_url
        # Browser and two-process tests already ran on SQLite; the database
        # rules are what differs.
        pg_code = subprocess.run(
            [str(BIN / "pytest"), "-m", "not browser and not redis", *pytest_args],
            cwd=ROOT, env=env,
        ).returncode
        code = code or pg_code
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "start":
        ensure_environment("")
        return subprocess.run([str(BIN / "crisishub"), "serve", *rest], cwd=ROOT).returncode
    ensure_environment("test")
    return run_tests(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
