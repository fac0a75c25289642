"""Whether this process may create the data folder (``settings.DATA_DIR``).

The data folder contains the SQLite database, the generated secret key and
the collected static files. It defaults to ``./var`` of the current
folder, so a command started from another folder would otherwise leave an
empty ``var/`` there. The settings create the folder only while
``create_allowed`` is true. The ``crisishub`` command sets it to false
before Django starts for every command that does not write the folder,
and stops such a command with :func:`missing_message` when the folder is
missing.
"""

from __future__ import annotations

from pathlib import Path

# True for every process that does not say otherwise (the test suite, an
# ASGI server started directly), so they keep creating the folder.
create_allowed = True


def missing_message(path: Path, command: str) -> str:
    """Return the one-line error for ``command`` run without its data folder."""
    return (
        f"data folder {path} not found, and '{command}' needs the database or "
        "secret key kept there. Run crisishub from the folder you started it "
        "from (the one that contains var/), or set CRISISHUB_DATA_DIR to the "
        "hub's data folder; 'crisishub setup' creates a new one."
    )
