"""The rate limit on registration changes (REGISTRATION_RATE_LIMIT changes in
REGISTRATION_RATE_WINDOW seconds per person).

Every change writes emails with a calendar file to the member, so registering and cancelling in
a loop would flood their mailbox (hole 9 of issue 8). A change is counted where it is recorded:
its entry in the registration log is marked `counted`, in the transaction that makes the change,
for the member whose registration it is and for whoever made it (a coordinator). So a change
that rolls back is not counted and one that commits always is; no cache that culls its entries
or fails can lose a count, and a registration writes nothing for the limit after its commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from members.models import User
from network_portal.batching import run_together
from network_portal.prepared import Prepared

from ..errors import RegistrationError
from ..models import RegistrationLog
from ..permissions import organizes


@dataclass(frozen=True)
class AllowedChange:
    """A change the limit lets through: its log entry is `counted` when the limit applies."""

    counted: bool


def check(member: User | None, actor: User | None, event_id: int, *, enabled: bool = True) -> AllowedChange:
    """Refuse a change past the limit for the member whose registration it is or whoever acts
    for them (a coordinator). Organizers are not limited, nor is a change with `enabled` off.
    Called before the event's lock, so that a refused flood never waits for it."""
    people = _limited_people(member, actor, event_id) if enabled else []
    if not people:
        return AllowedChange(counted=False)
    now = timezone.now()
    window = dt.timedelta(seconds=settings.REGISTRATION_RATE_WINDOW)
    limit = settings.REGISTRATION_RATE_LIMIT
    over = [person for person, count in _counts(people, since=now - window).items() if count >= limit]
    if over:
        # Free again when enough of each one's recent changes have left the window: for a
        # coordinator acting for a member, the later of the two.
        free_at = max(_free_at(person, now, window, limit) for person in over)
        minutes = max(1, math.ceil((free_at - now).total_seconds() / 60))
        raise RegistrationError(
            ngettext(
                "Too many registration changes in a short time. Please try again in %(minutes)d minute.",
                "Too many registration changes in a short time. Please try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
            "rate_limited",
        )
    return AllowedChange(counted=True)


def _limited_people(member: User | None, actor: User | None, event_id: int) -> list[int]:
    """Whom a change is checked and counted for: the member whose registration it is, and
    whoever acts for them (a coordinator). Organizers are not limited."""
    if not settings.REGISTRATION_RATE_LIMIT or organizes(actor, event_id):
        return []
    return sorted({person.pk for person in (member, actor) if person is not None})


def _counts(people: list[int], since: dt.datetime) -> dict[int, int]:
    """How many counted changes each person made, or had made to their registrations, since
    `since` (a change the member made to their own registration counts once). In SQL written
    out and prepared (network_portal.prepared): every change of a rush asks before its lock,
    and the ORM would compile it, and PostgreSQL plan it, each time."""
    since_value = connection.ops.adapt_datetimefield_value(since)
    params = {"since": since_value, **{f"person{index}": person for index, person in enumerate(people)}}
    rows = run_together([(_counted_since(len(people)), params)])
    return {person: sum(person in row for row in rows) for person in people}


@functools.cache
def _counted_since(people: int) -> Prepared:
    marks = ", ".join(f"%(person{index})s" for index in range(people))
    return Prepared(
        f"counted_changes_{people}",
        f"""SELECT actor_id, member_id FROM {RegistrationLog._meta.db_table}
        WHERE counted AND at > %(since)s AND (actor_id IN ({marks}) OR member_id IN ({marks}))""",  # noqa: S608
    )


def _free_at(person: int, now: dt.datetime, window: dt.timedelta, limit: int) -> dt.datetime:
    recent = _recent_changes(person, since=now - window)
    return (recent[-limit] + window) if len(recent) >= limit else now  # erased since: free now


def _recent_changes(person: int, since: dt.datetime) -> list[dt.datetime]:
    """The times of what `_counts` counts for one person, oldest first (for the message)."""
    counted = RegistrationLog.objects.filter(counted=True, at__gt=since)
    return sorted(counted.filter(Q(actor_id=person) | Q(member_id=person)).values_list("at", flat=True))
