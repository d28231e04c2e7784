"""Helpers shared by the tests of members' data rights."""

import datetime as dt

from django.utils import timezone

from events.services import registrations as event_registrations
from tests import factories


def past_registration(user, *, diet="vegetarian", accessibility="wheelchair", days_ago=10):
    """A confirmed registration of an event that ended `days_ago` days ago."""
    now = timezone.now()
    event = factories.event(
        days_ahead=-days_ago,
        opens_at=now - dt.timedelta(days=days_ago + 20),
        closes_at=now - dt.timedelta(days=days_ago + 1),
    )
    occasion = event.occasions.get()
    return event_registrations.register(
        user,
        occasion,
        diet=diet,
        accessibility=accessibility,
        listed=True,
        at=now - dt.timedelta(days=days_ago + 5),
    )
