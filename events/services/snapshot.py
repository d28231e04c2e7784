"""What the register service reads under the event's lock, in one query.

Every member of an event opening waits for the lock in turn, so what is read while it is held is
read in one round trip, and in SQL written out: the ORM would compile six subqueries again on
every registration, which costs more than running them.
"""

from __future__ import annotations

from members.models import User

from ..models import Occasion, Registration

Status = Registration.Status


def _sql() -> str:
    user, occasion, registration = (model._meta.db_table for model in (User, Occasion, Registration))
    # Table names from the models, values as parameters. A member has at most one active
    # registration for an event (the constraint registration_one_active_per_event), so a join
    # finds it; fewer subqueries also plan faster, and the plan is made on every registration.
    return f"""
    SELECT u.*,
        o.capacity AS occasion_capacity,
        o.starts_at AS occasion_starts_at,
        (SELECT COUNT(*) FROM {registration} r
            WHERE r.occasion_id = o.id AND r.status = %(confirmed)s) AS occasion_taken,
        (SELECT COUNT(*) FROM {registration} r
            WHERE r.event_id = %(event)s AND r.organization_id = u.organization_id
            AND r.status = %(confirmed)s) AS organization_taken,
        a.id AS registered_id,
        a.occasion_id AS registered_occasion_id
    FROM {user} u
    LEFT JOIN {occasion} o ON o.id = %(occasion)s AND o.event_id = %(event)s
    LEFT JOIN {registration} a ON a.user_id = u.id AND a.event_id = %(event)s
        AND a.status IN (%(confirmed)s, %(waitlisted)s)
    WHERE u.id = %(user)s"""  # noqa: S608


def as_it_is_now(user_id: int, occasion_id: int, event_id: int) -> User:
    """The member as stored now, with the occasion's seats (`occasion_capacity`, None when the
    occasion is gone) and date (`occasion_starts_at`, None when it has none), the confirmed
    seats of the occasion and of the member's organization in the event (`occasion_taken`,
    `organization_taken`) and the member's active registration for it (`registered_id`,
    `registered_occasion_id`). Call it holding the event's lock: counts read before the lock
    was granted could be wrong by now."""
    params = {
        "user": user_id,
        "occasion": occasion_id,
        "event": event_id,
        "confirmed": Status.CONFIRMED.value,
        "waitlisted": Status.WAITLISTED.value,
    }
    return next(iter(User.objects.raw(_sql(), params)))
