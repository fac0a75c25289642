from django.core.management.base import BaseCommand, CommandError

from crisishub.api.auth import create_partner
from crisishub.core.models import Partner


class Command(BaseCommand):
    help = "Create an API partner and print its token once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Partner name, for example 'WellSpace 988'.")

    def handle(self, *args, name, **options):
        if Partner.objects.filter(name=name).exists():
            raise CommandError(f"Partner {name!r} already exists; choose another name.")
        partner, token = create_partner(name)
        self.stdout.write(f"Partner {partner.name} created. API token (shown only now):\n{token}")
