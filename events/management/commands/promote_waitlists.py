from django.core.management.base import BaseCommand

from events.services import registrations


class Command(BaseCommand):
    help = (
        "Give free seats to waiting lists (after organization seats were released, seats added or "
        "memberships verified). Safe to run any number of times; the background jobs run it periodically."
    )

    def handle(self, *args, **options):
        promoted = registrations.promote_all_waitlists()
        self.stdout.write(f"Promoted {len(promoted)} registrations from waiting lists.")
