from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crisishub.api.auth import create_partner
from crisishub.core.models import Partner


class Command(BaseCommand):
    help = "Create an API partner and print its token once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Partner name, for example 'WellSpace 988'.")

    def handle(self, *args, name, **options):
        _require_migrated_database()
        name = name.strip()
        if not name:
            raise CommandError("The partner name is empty; give a name such as 'WellSpace 988'.")
        if len(name) > Partner._meta.get_field("name").max_length:
            raise CommandError("The partner name is longer than 150 characters; shorten it.")
        if Partner.objects.filter(name=name).exists():
            raise CommandError(f"Partner {name!r} already exists; choose another name.")
        partner, token = create_partner(name)
        self.stdout.write(f"Partner {partner.name} created. API token (shown only now):\n{token}")


def _require_migrated_database() -> None:
    """Raise CommandError when the database has no crisishub tables.

    That happens when the command runs in another folder than the hub,
    because the default data directory is ./var of the current folder.
    """
    if Partner._meta.db_table in connection.introspection.table_names():
        return
    database = connection.settings_dict["NAME"]
    raise CommandError(
        f"The database {database} has no crisishub tables (data directory {settings.DATA_DIR}). "
        "Run this command in the folder where you start the hub, or set CRISISHUB_DATA_DIR "
        "(or DATABASE_URL) to the hub's; 'crisishub setup' creates the tables of a new database."
    )
