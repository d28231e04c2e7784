"""The rate limit on registration changes (REGISTRATION_RATE_LIMIT changes in
REGISTRATION_RATE_WINDOW seconds per person).

Every change writes emails with a calendar file to the member, so registering and cancelling in
a loop would flood their mailbox (hole 9 of issue 8). The counters are the times of recent
changes in the cache, a sliding window that every cache backend keeps the same way (the
database cache resets a key's expiry on incr, which would stretch a fixed one).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import ngettext

from members.models import User

from ..errors import RegistrationError
from ..permissions import organizes


@dataclass(frozen=True)
class AllowedChange:
    """A change the limit lets through; `count` it once it is made (a refused one is not)."""

    keys: list[str]
    now: float

    def count(self) -> None:
        """Count the change when its transaction commits: the cache's writes (statements of their
        own with the database cache) stay out of the event's lock, which every registration in a
        rush waits for, and a change that rolls back is not counted. A cache that fails then
        costs a count, never the change that has committed."""
        if self.keys:
            transaction.on_commit(self._write, robust=True)

    def _write(self) -> None:
        for key in self.keys:
            cache.set(key, [*_recent_changes(key, self.now), self.now], settings.REGISTRATION_RATE_WINDOW)


def check(member: User | None, actor: User | None, event_id: int, *, enabled: bool = True) -> AllowedChange:
    """Refuse a change past the limit for the member whose registration it is or whoever acts
    for them (a coordinator). Organizers are not limited, nor is a change with `enabled` off."""
    keys = _rate_keys(member, actor, event_id) if enabled else []
    now = time.time()
    limit = settings.REGISTRATION_RATE_LIMIT
    for key in keys:
        recent = _recent_changes(key, now)
        if len(recent) >= limit:
            # Free again when enough of the recent changes have left the window.
            free_at = recent[len(recent) - limit] + settings.REGISTRATION_RATE_WINDOW
            minutes = max(1, math.ceil((free_at - now) / 60))
            raise RegistrationError(
                ngettext(
                    "Too many registration changes in a short time. Please try again in %(minutes)d minute.",
                    "Too many registration changes in a short time. Please try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
                "rate_limited",
            )
    return AllowedChange(keys, now)


def _rate_keys(member: User | None, actor: User | None, event_id: int) -> list[str]:
    """The counters a change is checked against and counted on: the member whose registration
    it is, and whoever acts for them (a coordinator). Organizers are not limited."""
    if not settings.REGISTRATION_RATE_LIMIT or organizes(actor, event_id):
        return []
    people = {person.pk for person in (member, actor) if person is not None}
    return [f"registration-changes:{pk}" for pk in sorted(people)]


def _recent_changes(key: str, now: float) -> list[float]:
    return sorted(moment for moment in cache.get(key, []) if moment > now - settings.REGISTRATION_RATE_WINDOW)
