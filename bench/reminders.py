"""Reminder benchmark: one run of the reminder job (events.services.lifecycle.send_due_reminders)
with `due` reminders due among `total_registrations` registrations, timed and its queries
counted. Its cost should follow the reminders that are due, not the registrations there are.

    from bench import reminders
    reminders.measure(100_000, 500)

Called in a process where django.setup() has run, on a database of the benchmark's own (the
harness's, bench/run.py). It creates its members, events, occasions and registrations with bulk
inserts, checks that the job wrote exactly `due` reminders, and deletes everything it created,
the reminders included, so it can be called again between other scenarios.
"""

from __future__ import annotations

import datetime as dt
import math
import time

DOMAIN = "reminders.bench.example"
SLUG = "reminder-bench-"  # not "bench-": the harness finds its own events by that prefix
# One registration per member and event: each event has at most this many, so this many members.
PER_EVENT = 500
# Created only in a database without the reference organizations (manage.py load_organizations).
ORGANIZATION = "Reminder bench"
# Where the events with no reminder due lie, in turn: over already, within the job's 60-day
# horizon but with no window open yet, and beyond the horizon. One more lies in an open window
# with its reminders sent already (what every run after the first sees).
_NOT_DUE = ("past", "ahead", "far")
# Days from now to each kind's occasion, by the event's index.
_DAYS_AHEAD = {
    "due": lambda index: 6.5,  # in the 7-day window of the default offsets (7, 1)
    "reminded": lambda index: 0.5,
    "past": lambda index: -1 - index % 700,
    "ahead": lambda index: 20 + index % 30,
    "far": lambda index: 90 + index,
}


def measure(total_registrations: int, due: int) -> dict:
    """Create the data, time one run of the job at the moment the data was made for, delete the
    data, and return what was measured."""
    from django.db import connection
    from django.utils import timezone

    from events.services import lifecycle

    if not 0 <= due <= total_registrations:
        raise ValueError("due must be between 0 and total_registrations")
    _delete()  # what an interrupted earlier call left behind
    now = timezone.now()
    _create(total_registrations, due, now)
    try:
        queries = []

        def count(execute, sql, params, many, context):
            # A counter, not Django's query log: that keeps only the last 9,000 queries.
            queries.append(1)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            sent = lifecycle.send_due_reminders(now)
            seconds = time.perf_counter() - started
        written = _reminders_written().count()
    finally:
        _delete()
    if written != due or sent != due:
        raise RuntimeError(
            f"{due} reminders were due; the job wrote {written} of them and {sent} in all "
            "(another scenario's reminders due in this database?)"
        )
    return {
        "registrations": total_registrations,
        "due": due,
        "seconds": round(seconds, 4),
        "queries": len(queries),
        "written": written,
    }


def _create(total: int, due: int, now: dt.datetime) -> None:
    from django.db import transaction

    with transaction.atomic():
        _create_in_transaction(total, due, now)


def _create_in_transaction(total: int, due: int, now: dt.datetime) -> None:
    from events.models import Event, Occasion, Registration, Theme
    from members.models import Organization, User

    organization = Organization.objects.filter(kind="municipality").order_by("pk").first()
    if organization is None:  # a database without `manage.py load_organizations`
        organization = Organization.objects.create(name=ORGANIZATION, kind="other", country="XX")
    theme = Theme.objects.get_or_create(slug=SLUG.rstrip("-"), defaults={"name": "Reminder bench"})[0]

    users = User.objects.bulk_create(
        User(
            email=f"m{n}@{DOMAIN}",
            full_name=f"Member {n}",
            password="!",
            organization=organization,
            organization_verified_at=now,
            # Reminders are written in each member's language.
            preferred_language=("da", "sv", "en", "")[n % 4],
        )
        for n in range(min(total, PER_EVENT))
    )
    counts = [min(PER_EVENT, total - start) for start in range(0, total, PER_EVENT)]
    kinds = _kinds(len(counts), due_events=math.ceil(due / PER_EVENT))
    starts = [now + dt.timedelta(days=_DAYS_AHEAD[kind](index)) for index, kind in enumerate(kinds)]
    events = Event.objects.bulk_create(
        Event(
            title=f"Reminder bench {index}",
            slug=f"{SLUG}{index}",
            main_theme=theme,
            summary="-",
            format=Event.Format.ONLINE,
            language="da",
            registration_opens_at=start - dt.timedelta(days=90),
            registration_closes_at=start - dt.timedelta(hours=1),
            status=Event.Status.PUBLISHED,
            published_at=start - dt.timedelta(days=90),
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
        )
        for index, start in enumerate(starts)
    )
    occasions = Occasion.objects.bulk_create(
        Occasion(event=event, capacity=PER_EVENT, starts_at=start, ends_at=start + dt.timedelta(hours=3))
        for event, start in zip(events, starts, strict=True)
    )
    long_ago = now - dt.timedelta(days=200)  # before every reminder window
    rows, left_due = [], due
    for kind, event, occasion, count in zip(kinds, events, occasions, counts, strict=True):
        for seat in range(count):
            is_due = kind == "due" and left_due > 0
            left_due -= is_due
            # A tenth of those with no reminder due wait for a seat (no reminder for them).
            waiting = not is_due and seat % 10 == 9
            reminded = {"due": 7, "reminded": 1}.get(kind) if not is_due else None
            rows.append(
                Registration(
                    user_id=users[seat].pk,
                    event_id=event.pk,
                    occasion_id=occasion.pk,
                    organization_id=organization.pk,
                    status=Registration.Status.WAITLISTED if waiting else Registration.Status.CONFIRMED,
                    confirmed_at=None if waiting else long_ago,
                    created_at=long_ago,
                    queued_at=long_ago,
                    last_reminder_days=reminded,
                )
            )
    Registration.objects.bulk_create(rows, batch_size=5000)


def _kinds(events: int, *, due_events: int) -> list[str]:
    """What each event is for the job, the due ones last: in a real database the registrations
    for coming occasions are the newest, behind all those of past ones."""
    due = min(due_events, events)
    others = [_NOT_DUE[index % len(_NOT_DUE)] for index in range(events - due)]
    if others:
        others[-1] = "reminded"
    return others + ["due"] * due


def _reminders_written():
    from mail.models import OutgoingMessage

    return OutgoingMessage.objects.filter(kind="reminder", user__email__endswith=f"@{DOMAIN}")


def _delete() -> None:
    from django.db import transaction

    from events.models import Event, Occasion, Registration, Theme
    from members.models import Organization, User

    with transaction.atomic():
        _reminders_written().delete()
        # One DELETE: the collector would load every registration to send signals about rows
        # that nothing refers to (the job logs nothing); deleting the events below tells the page cache.
        mine = Registration.objects.filter(event__slug__startswith=SLUG)
        mine._raw_delete(mine.db)
        Occasion.objects.filter(event__slug__startswith=SLUG).delete()
        Event.objects.filter(slug__startswith=SLUG).delete()
        User.objects.filter(email__endswith=f"@{DOMAIN}").delete()
        # The theme and organization only if the benchmark created them: nothing else uses them.
        Theme.objects.filter(slug=SLUG.rstrip("-"), main_events=None).delete()
        Organization.objects.filter(
            name=ORGANIZATION, kind="other", members=None, registrations=None
        ).delete()
