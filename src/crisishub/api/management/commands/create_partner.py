from django.core.management.base import BaseCommand, CommandError

from crisishub.api.auth import create_partner
from crisishub.core.models import Partner


class Command(BaseCommand):
    help = "Create an API partner and print its token once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Partner name, for example 'WellSpace 988'.")

    def handle(self, *args, name, **options):
        name = name.strip()
        if not name:
            raise CommandError("The partner name is empty; give a name such as 'WellSpace 988'.")
        if len(name) > Partner._meta.get_field("name").max_length:
            raise CommandError("The partner name is longer than 150 characters; shorten it.")
        if Partner.objects.filter(name=name).exists():
            raise CommandError(f"Partner {name!r} already exists; choose another name.")
        partner, token = create_partner(name)
        self.stdout.write(f"Partner {partner.name} created. API token (shown only now):\n{token}")
