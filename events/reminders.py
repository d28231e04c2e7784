"""Which reminders are due: read a batch of registrations at a time, for the reminder job
(events.services.lifecycle.send_due_reminders claims and writes them).

A reminder is due when its offset (the event's `reminder_days`) has been reached but not the
next smaller one (a late job never sends a stale "in 7 days" next to "tomorrow"), to confirmed
participants who held their seat before then and have not been reminded at this offset or a
smaller one. The occasions starting within the longest allowed offset are read once; their
registrations a batch at a time, by a condition the database evaluates, so a batch costs the
same queries however many reminders are due and however many registrations there are.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import MAX_REMINDER_DAYS, Event, Occasion, Registration

# Registrations per batch: each batch is read, claimed and written in one transaction.
BATCH = 300
# Windows per read: the condition has a few terms for each, and SQLite refuses expressions
# nested more than 1000 deep (a chain of ORs nests).
WINDOWS_PER_READ = 200


@dataclass(frozen=True)
class Window:
    """The reminder of `days` that is due now for an occasion (one at a time for each)."""

    occasion_id: int
    days: int
    starts_at: dt.datetime
    opened_at: dt.datetime  # seats taken after this get no reminder of this offset


@dataclass(frozen=True)
class Due:
    """A registration whose reminder is due, with what its message needs."""

    registration_id: int
    occasion_id: int
    days: int
    starts_at: dt.datetime
    user_id: int
    email: str
    language: str  # the member's preferred language, empty if none
    team_id: int | None


def open_windows(at: dt.datetime) -> list[Window]:
    """The occasions with a reminder due at `at`, and which: one query."""
    occasions = Occasion.objects.filter(
        starts_at__gt=at,
        starts_at__lte=at + dt.timedelta(days=MAX_REMINDER_DAYS),
        event__status=Event.Status.PUBLISHED,
    ).values_list("pk", "starts_at", "event__reminder_days")
    windows = []
    for pk, starts_at, reminder_days in occasions:
        offsets = sorted(set(reminder_days), reverse=True)
        for index, days in enumerate(offsets):
            opened_at = starts_at - dt.timedelta(days=days)
            smaller = offsets[index + 1] if index + 1 < len(offsets) else 0
            if opened_at <= at < starts_at - dt.timedelta(days=smaller):
                windows.append(Window(pk, days, starts_at, opened_at))
                break  # the windows of one occasion do not overlap
    return windows


def in_groups(windows: list[Window]) -> Iterator[list[Window]]:
    """The windows in groups small enough for one read."""
    for start in range(0, len(windows), WINDOWS_PER_READ):
        yield windows[start : start + WINDOWS_PER_READ]


def due_in(windows: list[Window]) -> QuerySet[Registration]:
    """The registrations whose reminder is due in one of `windows` and not yet claimed; the
    claim re-applies this condition, so what changed since the read is not claimed."""
    if not windows:
        return Registration.objects.none()
    in_a_window = functools.reduce(
        operator.or_,
        (
            Q(occasion_id=window.occasion_id, confirmed_at__lte=window.opened_at)
            & (Q(last_reminder_days__isnull=True) | Q(last_reminder_days__gt=window.days))
            for window in windows
        ),
    )
    # The plain list of occasions lets the database read them by its index on occasion_id.
    occasions = [window.occasion_id for window in windows]
    # Without a member (an erased account) there is no one to remind.
    return Registration.objects.confirmed().filter(in_a_window, occasion_id__in=occasions, user__isnull=False)


def due_batch(windows: list[Window]) -> list[Due]:
    """Up to BATCH registrations due in `windows`, in one query, in the caller's transaction.
    Where the database has row locks they are locked, and those an overlapping run of the job
    holds are skipped: that run is claiming them."""
    by_occasion = {window.occasion_id: window for window in windows}
    rows = (
        due_in(windows)
        .select_for_update(skip_locked=True, of=("self",))
        # In no order: sorting would tempt the database to walk all registrations by their key.
        .order_by()
        .values_list(
            "pk", "occasion_id", "user_id", "user__email", "user__preferred_language", "event__team_id"
        )
    )[:BATCH]
    return [
        Due(
            registration_id=pk,
            occasion_id=occasion_id,
            days=by_occasion[occasion_id].days,
            starts_at=by_occasion[occasion_id].starts_at,
            user_id=user_id,
            email=email,
            language=language,
            team_id=team_id,
        )
        for pk, occasion_id, user_id, email, language, team_id in rows
    ]
