"""The event's lock, and what the register service reads under it, in one round trip.

Every member of an event opening waits for the lock in turn, so what is read while it is held is
read in one query, sent together with the lock (network_portal.batching: on PostgreSQL the read
still runs after the lock is granted, on a snapshot of its own, so it counts every seat taken
before), and in SQL written out: the ORM would compile six subqueries again on every
registration, which costs more than running them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection

from members.models import User
from network_portal.batching import Statement, run_together, together
from network_portal.prepared import Prepared
from network_portal.rows import columns, instances

from ..models import Event, Occasion, Registration, RegistrationLog

Status = Registration.Status


def lock_statement(event_id: int) -> Statement:
    """The event's row, locked until the transaction ends (the one lock of registrations.py)."""
    return _lock_sql("*", connection.features.has_select_for_update), {"event": event_id}


@functools.cache
def _lock_sql(columns: str, for_update: bool) -> str:
    # Written out: every member of a rush waits for this statement in turn, and the ORM spent
    # twice as long building it as a raw query does loading the row.
    table, pk = Event._meta.db_table, Event._meta.pk.column
    return f"SELECT {columns} FROM {table} WHERE {pk} = %(event)s{' FOR UPDATE' if for_update else ''}"  # noqa: S608


@dataclass(frozen=True)
class Taken:
    """What the decision reads besides the member and the event."""

    occasion_capacity: int | None  # None: the occasion is gone
    occasion_starts_at: object  # None: it has no date
    occasion_taken: int
    organization_taken: int
    registered_id: int | None  # the member's active registration for the event
    registered_occasion_id: int | None
    # Ids for the registration and its log entry, drawn from their sequences ahead (PostgreSQL),
    # so the rows can be written together without waiting for ids back; None elsewhere.
    next_registration_id: int | None
    next_log_id: int | None


@functools.cache
def _prepared(for_update: bool, allocates: bool) -> tuple[Prepared, Prepared]:
    """The lock and the read, each planned once per connection (network_portal.prepared): the
    read's plan costs more than running it. The lock reads only the id: the read has the row."""
    return Prepared("event_lock", _lock_sql("id", for_update)), Prepared("registration_read", _sql(allocates))


def _sql(allocates: bool) -> str:
    user, event, occasion, registration = (
        model._meta.db_table for model in (User, Event, Occasion, Registration)
    )
    # Table names from the models, values as parameters. A member has at most one active
    # registration for an event (the constraint registration_one_active_per_event), so a join
    # finds it.
    ids = (
        f"nextval(pg_get_serial_sequence('{registration}', 'id')),"
        f" nextval(pg_get_serial_sequence('{RegistrationLog._meta.db_table}', 'id'))"
        if allocates
        else "NULL, NULL"
    )
    return f"""
    SELECT {columns(User, "u")}, {columns(Event, "e")},
        o.capacity,
        o.starts_at,
        (SELECT COUNT(*) FROM {registration} r
            WHERE r.occasion_id = o.id AND r.status = %(confirmed)s),
        (SELECT COUNT(*) FROM {registration} r
            WHERE r.event_id = e.id AND r.organization_id = u.organization_id
            AND r.status = %(confirmed)s),
        a.id,
        a.occasion_id,
        {ids}
    FROM {user} u
    JOIN {event} e ON e.id = %(event)s
    LEFT JOIN {occasion} o ON o.id = %(occasion)s AND o.event_id = e.id
    LEFT JOIN {registration} a ON a.user_id = u.id AND a.event_id = e.id
        AND a.status IN (%(confirmed)s, %(waitlisted)s)
    WHERE u.id = %(user)s"""  # noqa: S608


def lock_and_read(user_id: int, occasion_id: int, event_id: int) -> tuple[Event, User, Taken]:
    """Lock the event, then read it, the member as stored now and what `Taken` holds, in one
    round trip. Counts read before the lock was granted could be wrong by now; these are not."""
    lock, read = _prepared(connection.features.has_select_for_update, together(connection))
    params = {
        "user": user_id,
        "occasion": occasion_id,
        "event": event_id,
        "confirmed": Status.CONFIRMED.value,
        "waitlisted": Status.WAITLISTED.value,
    }
    rows = run_together([(lock, {"event": event_id}), (read, params)])
    if not rows:
        raise Event.DoesNotExist("The event no longer exists.")
    user, event, *taken = instances(rows[0], (User, Event), _EXTRA)
    return event, user, Taken(*taken)


# The types of Taken's values: the occasion's date is a date, the rest are read as they are.
_EXTRA = (None, Occasion._meta.get_field("starts_at"), None, None, None, None, None, None)
