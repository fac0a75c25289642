"""First start: migrate, load the data pack, create demo staff and teams."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
from importlib import resources

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from crisishub.audit.context import acting_as
from crisishub.core import roles
from crisishub.core.models import AddressEntry, Facility, RiskMatrix, Station, Team

logger = logging.getLogger(__name__)

# Demo stations: places spread over the county's populated areas, for the
# demo fleet only. They are not the program's real stations.
DEMO_STATIONS = [
    ("Stockton Blvd (urgent care campus)", "2130 Stockton Blvd, Sacramento", 38.5540, -121.4560),
    ("North Highlands", "North Highlands", 38.6855, -121.3722),
    ("Elk Grove", "Elk Grove", 38.4088, -121.3716),
    ("Rancho Cordova", "Rancho Cordova", 38.5891, -121.3027),
    ("Citrus Heights", "Citrus Heights", 38.7071, -121.2811),
    ("South Sacramento", "Florin Rd, Sacramento", 38.4960, -121.4400),
    ("Natomas", "Natomas, Sacramento", 38.6400, -121.5200),
]

# The demo fleet: seven teams, as the program has seven vans. Names are
# invented; languages reflect the county's most spoken languages.
DEMO_TEAMS = [
    ("CWRT-1", 0, [("Counselor A. Rivera", ["en", "es"]), ("Peer B. Chen", ["en", "zh"])]),
    ("CWRT-2", 1, [("Counselor C. Nguyen", ["en", "vi"]), ("Peer D. Brooks", ["en"])]),
    ("CWRT-3", 2, [("Counselor E. Singh", ["en", "pa"]), ("Peer F. Morales", ["en", "es"])]),
    ("CWRT-4", 3, [("Counselor G. Petrenko", ["en", "ru", "uk"]), ("Peer H. Jones", ["en"])]),
    ("CWRT-5", 4, [("Counselor I. Vang", ["en", "hmn"]), ("Peer J. Garcia", ["en", "es"])]),
    ("CWRT-6", 5, [("Counselor K. Santos", ["en", "tl"]), ("Peer L. Lopez", ["en", "es"])]),
    ("CWRT-7", 6, [("Counselor M. Ahmadi", ["en", "fa"]), ("Peer N. Williams", ["en"])]),
]

DEMO_STAFF = [
    ("counselor", roles.CALL_COUNSELOR),
    ("dispatcher", roles.DISPATCHER),
    ("team1", roles.TEAM_MEMBER),
    ("supervisor", roles.SUPERVISOR),
    ("analyst", roles.ANALYST),
    ("admin", roles.ADMINISTRATOR),
]


def example_matrix_document() -> dict:
    text = resources.files("crisishub.rules").joinpath("example_matrix.json").read_text("utf-8")
    return json.loads(text)


def load_reference_data() -> None:
    """Load the data pack's facilities, the example matrix and the address
    index, once."""
    from crisishub import datapack
    from crisishub.core.services.triage import do_install_matrix

    with acting_as(label="setup"), transaction.atomic():
        if not Facility.objects.exists():
            for row in datapack.load_facilities():
                Facility.objects.create(
                    name=row.name.title(), kind=row.kind, address=row.address.title(),
                    city=row.city.title(), zip_code=row.zip, phone=row.telephone or "",
                    latitude=row.lat, longitude=row.lon,
                    emergency_services={"yes": True, "no": False}.get(row.emergency_services),
                    open_24_7=(row.hours or "") == "24/7", hours=row.hours or "",
                    languages=list(row.languages or []), beds_total=row.beds,
                    source=row.source, is_active=row.is_open,
                )
        if not RiskMatrix.objects.exists():
            do_install_matrix(example_matrix_document(), activate=True)
        load_address_index()


EVENTS_ADDRESS_SOURCE = "datapack:events_2006_01"
FACILITIES_ADDRESS_SOURCE = "datapack:facilities"


def normalize_address(text: str) -> str:
    """Upper-case ``text``, drop punctuation and collapse spaces, as
    AddressEntry.normalized stores it and address searches match it."""
    text = re.sub(r"[^\w\s]", " ", text.upper())
    return " ".join(text.split())


def _street_title(text: str) -> str:
    """Title-case a street address, keeping ordinals such as "28th" whole."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split())


def load_address_index() -> int:
    """Add the data pack's addresses to the address index; return how many
    were new.

    The 2006 crisis events give hundred blocks and intersections only (the
    data pack never stores a house number), placed at the mean of their
    events' rounded points. Facilities give their public street address.
    Entries already present (same text and source) are left unchanged, so
    running this again adds nothing.
    """
    from crisishub import datapack

    points: dict[str, list[tuple[float, float]]] = {}
    for event in datapack.load_events():
        points.setdefault(event.block, []).append((event.lat, event.lon))
    entries = [
        AddressEntry(
            normalized=normalize_address(block)[:200], display=_street_title(block)[:200],
            latitude=sum(lat for lat, _lon in located) / len(located),
            longitude=sum(lon for _lat, lon in located) / len(located),
            precision=AddressEntry.Precision.BLOCK, source=EVENTS_ADDRESS_SOURCE,
        )
        for block, located in sorted(points.items())
    ]
    for facility in datapack.load_facilities():
        display = (f"{_street_title(facility.name)}, {_street_title(facility.address)}, "
                   f"{_street_title(facility.city)} {facility.zip}")
        entries.append(AddressEntry(
            normalized=normalize_address(f"{facility.address} {facility.city} {facility.zip} {facility.name}")[:200],
            display=display[:200], latitude=facility.lat, longitude=facility.lon,
            precision=AddressEntry.Precision.ADDRESS, source=FACILITIES_ADDRESS_SOURCE,
        ))
    before = AddressEntry.objects.count()
    AddressEntry.objects.bulk_create(entries, ignore_conflicts=True)
    added = AddressEntry.objects.count() - before
    if added:
        logger.info("Added %s entries to the address index from the data pack", added)
    return added


def create_demo_fleet() -> list[Team]:
    from crisishub.core.services.teams import do_create_team

    if Team.objects.exists():
        return list(Team.objects.all())
    with acting_as(label="setup"), transaction.atomic():
        stations = [
            Station.objects.get_or_create(
                name=name, defaults={"address": address, "latitude": lat, "longitude": lon}
            )[0]
            for name, address, lat, lon in DEMO_STATIONS
        ]
        teams = []
        for name, station_index, (counselor, peer) in DEMO_TEAMS:
            teams.append(
                do_create_team(
                    name=name, vehicle=f"Van {name[-1]}", station=stations[station_index],
                    members=[
                        {"display_name": counselor[0], "role": "counselor", "languages": counselor[1]},
                        {"display_name": peer[0], "role": "peer", "languages": peer[1]},
                    ],
                )
            )
    return teams


def create_demo_staff(stream=sys.stdout) -> None:
    """Create one demo account per role; print new passwords once.

    ``CRISISHUB_DEMO_PASSWORD`` sets every demo password instead of random
    ones (for scripted demos and browser tests).
    """
    User = get_user_model()
    fixed = os.environ.get("CRISISHUB_DEMO_PASSWORD", "")
    if fixed:
        _check_demo_password(fixed)
    created = []
    with acting_as(label="setup"), transaction.atomic():
        roles.ensure_role_groups()
        from django.contrib.auth.models import Group

        for username, role in DEMO_STAFF:
            if User.objects.filter(username=username).exists():
                continue
            password = fixed or secrets.token_urlsafe(12)
            user = User.objects.create_user(username=username, password=password)
            if role == roles.ADMINISTRATOR:
                user.is_staff = True
                user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            user.groups.add(Group.objects.get(name=role))
            created.append((username, role, password))
        team = Team.objects.filter(name="CWRT-1").first()
        team_user = User.objects.filter(username="team1").first()
        if team and team_user:
            for member in team.members.filter(role="counselor"):
                member.user = team_user
                member.save(update_fields=["user"])
    if created:
        print("Demo staff accounts (passwords are shown only now):", file=stream)
        for username, role, password in created:
            shown = "(from CRISISHUB_DEMO_PASSWORD)" if fixed else password
            print(f"  {username:<11} {role:<15} {shown}", file=stream)


def _check_demo_password(password: str) -> None:
    """Raise SettingError unless the password passes the hub's validators,
    because it also becomes the administrator's password."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from crisishub.core.errors import SettingError

    try:
        validate_password(password)
    except ValidationError as error:
        raise SettingError(
            f"Invalid value for CRISISHUB_DEMO_PASSWORD: {' '.join(error.messages)} "
            "It also becomes the admin account's password; choose a longer, uncommon one."
        ) from None


def prepare_database(demo: bool = True, verbosity: int = 0) -> None:
    call_command("migrate", interactive=False, verbosity=verbosity)
    roles.ensure_role_groups()
    load_reference_data()
    if demo:
        create_demo_fleet()
        create_demo_staff()
        now = timezone.now()
        with acting_as(label="setup"):
            for team in Team.objects.filter(status="off_duty"):
                team.status = "available"
                team.status_since = now
                team.save(update_fields=["status", "status_since"])


class ListenError(OSError):
    """The server cannot listen on the requested address."""


def listen_socket(host: str, port: int):
    """Bind and listen on host:port; raise ListenError with a message that
    names the address and the fix."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on host {host!r}: {error.strerror}; use an address such as 127.0.0.1.") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ListenError(
                f"port {port} on {host} is already in use; stop the other server or pass --port with a free port."
            ) from None
        if error.errno == errno.EACCES:
            raise ListenError(f"no permission to listen on port {port}; use a port from 1024 to 65535.") from None
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror}.") from None
    sock.setblocking(False)
    return sock


def run_server(host: str, port: int, demo: bool = True) -> int:
    """Prepare the database and serve with Daphne until stopped.

    The port is checked before Daphne starts, so a busy or forbidden port
    gets one clear line, and "listening" is printed only once Daphne has
    bound it.
    """
    from daphne.cli import CommandLineInterface
    from daphne.server import Server
    from django.conf import settings

    prepare_database(demo=demo)
    listen_socket(host, port).close()
    shown = f"[{host}]" if ":" in host else host
    failures: list[str] = []

    class HubDaphneServer(Server):
        def listen_success(self, listening_port):
            super().listen_success(listening_port)
            print(f"crisishub data directory: {settings.DATA_DIR}")
            print(f"crisishub is listening on http://{shown}:{port}/ (Ctrl-C stops it)", flush=True)

        def listen_error(self, failure):
            failures.append(failure.getErrorMessage())
            self.stop()

    command = CommandLineInterface()
    command.server_class = HubDaphneServer
    command.run(["-b", host, "-p", str(port), "crisishub.asgi:application"])
    if failures:
        raise ListenError(f"cannot listen on {host}:{port}: {failures[0]}.")
    return 0
