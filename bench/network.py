"""Network page benchmark: the admin's Network page (events.admin_network) over the last twelve
months with `total_registrations` registrations in them, against a floor of one query counting
those same registrations. Both are timed in this process through Django's test client and the
ORM, the page as an organizer of the team that runs the events sees it, its queries counted.

    from bench import network
    network.measure(100_000)

Called in a process where django.setup() has run, on a database of the benchmark's own with the
reference organizations loaded (bench/run.py). It creates members of those organizations,
events a few days apart over the past year with five themes, and registrations in every state
(confirmed, some marked attended or absent, waiting, cancelled), times the page and the floor
REPEAT times each and keeps the fastest, and deletes what it created.
"""

from __future__ import annotations

import datetime as dt
import time

DOMAIN = "network.bench.example"
SLUG = "network-bench-"  # not "bench-": the harness finds its own events by that prefix
PER_EVENT = 500  # one registration per member and event: this many members
TEAM = "Network bench"  # runs the events; the harness's other events are another team's
THEMES = 5
REPEAT = 3


def measure(total_registrations: int) -> dict:
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from events.models import Registration
    from members.models import Team, User

    _delete()
    now = _create(total_registrations)
    try:
        viewer = User.objects.create_user(f"viewer@{DOMAIN}", None, full_name="Network bench", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_registration"))
        team = Team.objects.get(name=TEAM)
        team.members.add(viewer)
        client = Client()
        client.force_login(viewer)
        url = reverse("admin:events_registration_network")
        since = now - dt.timedelta(days=365)
        in_period = Registration.objects.filter(
            event__team=team, occasion__starts_at__gte=since, occasion__starts_at__lt=now
        )
        queries: list[int] = []

        def count(execute, sql, params, many, context):
            queries.append(1)
            return execute(sql, params, many, context)

        def page() -> None:
            response = client.get(url)
            if response.status_code != 200 or b"dashboard-table" not in response.content:
                raise RuntimeError(f"the Network page answered {response.status_code}")

        def floor() -> None:
            if in_period.count() != total_registrations:
                raise RuntimeError("the registrations made are not all in the period")

        page()  # the first request of a process loads templates and translations
        with connection.execute_wrapper(count):
            page_seconds = _fastest(page)
        page_queries = len(queries) // REPEAT
        floor_seconds = _fastest(floor)
    finally:
        _delete()
    return {
        "registrations": total_registrations,
        "page_seconds": round(page_seconds, 4),
        "floor_seconds": round(floor_seconds, 4),
        "ratio": round(page_seconds / floor_seconds, 2),
        "queries": page_queries,
    }


def _fastest(action) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def _create(total: int) -> dt.datetime:
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic():
        _create_in_transaction(total, now)
    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of so many inserts: without statistics the
        # planner takes the new tables for empty and joins them row by row.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE events_registration, events_occasion, events_event, members_user")
    return now


def _create_in_transaction(total: int, now: dt.datetime) -> None:
    from events.models import Event, Occasion, Registration, Theme
    from members.models import Organization, Team, User

    team = Team.objects.create(name=TEAM)
    organizations = list(Organization.objects.filter(kind="municipality").order_by("pk"))
    if not organizations:
        raise RuntimeError("load the reference organizations first (manage.py load_organizations)")
    themes = Theme.objects.bulk_create(
        Theme(slug=f"{SLUG}{n}", name=f"Network bench theme {n}") for n in range(THEMES)
    )
    users = User.objects.bulk_create(
        User(
            email=f"m{n}@{DOMAIN}",
            full_name=f"Member {n}",
            password="!",
            # A few members per organization, not every organization: some are never reached.
            organization=organizations[n % (len(organizations) * 2 // 3)],
            organization_verified_at=now,
        )
        for n in range(min(total, PER_EVENT))
    )
    counts = [min(PER_EVENT, total - start) for start in range(0, total, PER_EVENT)]
    # Over the past year, the newest a day ago: every registration is in the default period.
    starts = [now - dt.timedelta(days=1 + index * 360 / len(counts)) for index in range(len(counts))]
    events = Event.objects.bulk_create(
        Event(
            title=f"Network bench {index}",
            slug=f"{SLUG}{index}",
            main_theme=themes[index % THEMES],
            summary="-",
            format=Event.Format.ONLINE,
            language="da",
            registration_opens_at=start - dt.timedelta(days=90),
            registration_closes_at=start - dt.timedelta(hours=1),
            status=Event.Status.PUBLISHED,
            published_at=start - dt.timedelta(days=90),
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            team=team,
        )
        for index, start in enumerate(starts)
    )
    Event.themes.through.objects.bulk_create(
        Event.themes.through(event_id=event.pk, theme_id=themes[(index + 1) % THEMES].pk)
        for index, event in enumerate(events)
        if index % 2
    )
    occasions = Occasion.objects.bulk_create(
        Occasion(event=event, capacity=PER_EVENT, starts_at=start, ends_at=start + dt.timedelta(hours=3))
        for event, start in zip(events, starts, strict=True)
    )
    rows = []
    for event, occasion, start, count in zip(events, occasions, starts, counts, strict=True):
        for seat in range(count):
            status = {9: "waitlisted", 8: "cancelled"}.get(seat % 10, "confirmed")
            attended = {0: False, 1: None}.get(seat % 5, True) if status == "confirmed" else None
            made = start - dt.timedelta(days=20)
            rows.append(
                Registration(
                    user_id=users[seat].pk,
                    event_id=event.pk,
                    occasion_id=occasion.pk,
                    organization_id=users[seat].organization_id,
                    status=status,
                    attended=attended,
                    confirmed_at=made if status == "confirmed" else None,
                    cancelled_at=made if status == "cancelled" else None,
                    created_at=made,
                    queued_at=made,
                )
            )
    Registration.objects.bulk_create(rows, batch_size=5000)


def _delete() -> None:
    from django.db import transaction

    from events.models import Event, Occasion, Registration, Theme
    from members.models import Team, User

    with transaction.atomic():
        # One DELETE (see bench/reminders.py): nothing refers to these registrations.
        mine = Registration.objects.filter(event__slug__startswith=SLUG)
        mine._raw_delete(mine.db)
        Occasion.objects.filter(event__slug__startswith=SLUG).delete()
        Event.objects.filter(slug__startswith=SLUG).delete()
        Theme.objects.filter(slug__startswith=SLUG).delete()
        User.objects.filter(email__endswith=f"@{DOMAIN}").delete()
        Team.objects.filter(name=TEAM).delete()
