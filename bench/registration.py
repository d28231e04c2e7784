"""Registration benchmark: how many registrations per second the portal decides for one event
when many people press the button at once (every decision takes the event's lock), on
PostgreSQL, with the outbox writing each confirmation in the same transaction.

    .venv/bin/python bench/registration.py --database-url postgres://…/a_database_of_its_own \\
        [--people 400] [--threads 1,8,32]

It creates its tables there with migrate and prints one JSON line per thread count.
"""

import argparse
import json
import os
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of the benchmark's own")
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--threads", default="1,8,32")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="network_portal.settings",
        DEBUG="false",  # DEBUG would keep every query in memory
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="localhost",
        HTTPS="false",
        DATABASE_URL=args.database_url,
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for threads in [int(value) for value in args.threads.split(",")]:
        print(json.dumps(_run(args.people, threads)), flush=True)


def _run(people: int, threads: int) -> dict:
    from allauth.account.models import EmailAddress
    from django.db import connections
    from django.utils import timezone

    from events.models import DayPart, Event, Occasion, Registration, Theme
    from events.services import lifecycle, registrations
    from mail.models import OutgoingMessage
    from members.models import Organization, User

    Registration.objects.all().delete()
    OutgoingMessage.objects.all().delete()
    Event.objects.all().delete()
    User.objects.filter(email__endswith="@bench.example").delete()
    organizations = list(Organization.objects.filter(kind="municipality")[:50])
    now = timezone.now()
    event = Event.objects.create(
        title="Benchmark",
        slug="benchmark",
        main_theme=Theme.objects.first(),
        summary="-",
        format=Event.Format.ONLINE,
        language="en",
        registration_opens_at=now - timezone.timedelta(days=1),
        registration_closes_at=now + timezone.timedelta(days=10),
        organization_quota=4,
        status=Event.Status.PUBLISHED,
    )
    occasions = []
    for index in range(3):
        occasion = Occasion.objects.create(event=event, label=str(index), capacity=people // 4)
        start = now + timezone.timedelta(days=20 + index)
        DayPart.objects.create(
            occasion=occasion, starts_at=start, ends_at=start + timezone.timedelta(hours=3)
        )
        occasions.append(occasion)
    lifecycle.refresh_schedule(event)
    users = User.objects.bulk_create(
        User(
            email=f"p{n}@bench.example",
            full_name=f"Person {n}",
            role="transport_planner",
            organization=organizations[n % len(organizations)],
            organization_verified_at=now,
        )
        for n in range(people)
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )

    start_gate = threading.Event()

    def register(index_and_user):
        index, user = index_and_user
        start_gate.wait()
        try:
            registrations.register(user, occasions[index % 3])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(register, item) for item in enumerate(users)]
        started = time.perf_counter()
        start_gate.set()
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
    confirmed = Registration.objects.confirmed().filter(event=event).count()
    return {
        "people": people,
        "threads": threads,
        "registrations_per_second": round(people / seconds, 1),
        "confirmed": confirmed,
        "waitlisted": people - confirmed,
        "messages_written": OutgoingMessage.objects.count(),
    }


if __name__ == "__main__":
    main()
