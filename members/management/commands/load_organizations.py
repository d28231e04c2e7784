from django.core.management.base import BaseCommand

from members.models import Organization, OrganizationDomain
from members.reference import load_organizations, read_records


class Command(BaseCommand):
    help = "Create or update the reference organizations (municipalities, regions, county boards)."

    def handle(self, *args, **options):
        created, updated = load_organizations(Organization, OrganizationDomain, read_records())
        self.stdout.write(f"Organizations: {created} created, {updated} updated.")
