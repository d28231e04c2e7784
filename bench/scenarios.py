"""What the harness does inside Django: sessions for members, a fresh event for each rush, the
invariants after it, a newsletter sent by the real worker, and queries counted per page."""

import datetime as dt
import time

from django.db import connection
from django.utils import timezone

from .data import Size
from .load import CSRF_SECRET
from .processes import wait_for

RUSH_SLUG = "bench-rush-{}"


def sessions_for(users) -> list[str]:
    """A logged-in session for each member, as the login view would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def cookie(session_key: str) -> str:
    return f"sessionid={session_key}; csrftoken={CSRF_SECRET}"


def rush_members(size: Size):
    """Distinct members, spread over as many organizations as possible."""
    from members.models import User

    return list(User.objects.filter(email__endswith="@bench.example").order_by("pk")[: size.rush_people])


def rush_event(size: Size, round_: int):
    """A published event opening now with three occasions of `rush_seats` seats each."""
    from events.models import DayPart, Event, Occasion, Theme

    now = timezone.now()
    event = Event.objects.create(
        title=f"Rush {round_}", slug=RUSH_SLUG.format(round_), main_theme=Theme.objects.first(),
        summary="-", format=Event.Format.ONLINE, language="sv",
        registration_opens_at=now - dt.timedelta(minutes=1),
        registration_closes_at=now + dt.timedelta(days=10),
        organization_quota=size.rush_quota, status=Event.Status.PUBLISHED, published_at=now,
    )  # fmt: skip
    for index in range(3):
        starts = now + dt.timedelta(days=20 + index)
        occasion = Occasion.objects.create(event=event, label=f"Dag {index + 1}", capacity=size.rush_seats)
        DayPart.objects.create(occasion=occasion, starts_at=starts, ends_at=starts + dt.timedelta(hours=3))
    from events.services import lifecycle

    lifecycle.refresh_schedule(event)
    return event


def rush_forms(event) -> list[dict]:
    return [{"occasion": str(pk)} for pk in event.occasions.order_by("pk").values_list("pk", flat=True)]


def invariants(event, attempts: int, statuses: dict[str, int]) -> dict:
    """What must hold after every rush; the harness fails when one does not."""
    from django.db.models import Count, F, Q

    from events.models import Registration

    confirmed = Registration.objects.confirmed().filter(event=event)
    over_capacity = (
        event.occasions.annotate(taken=Count("registrations", filter=Q(registrations__status="confirmed")))
        .filter(taken__gt=F("capacity"))
        .count()
    )
    over_quota = (
        confirmed.values("organization")
        .annotate(n=Count("pk"))
        .filter(n__gt=event.organization_quota)
        .count()
    )
    active = Registration.objects.filter(event=event, status__in=Registration.ACTIVE).count()
    messages = _confirmations(event).count()
    answered = attempts - statuses.get("0", 0)
    server_errors = sum(n for status, n in statuses.items() if status.startswith("5"))
    checks = {
        "confirmed": confirmed.count(),
        "waitlisted": active - confirmed.count(),
        "occasions_over_capacity": over_capacity,
        "organizations_over_quota": over_quota,
        "answered": answered,
        "server_errors": server_errors,
        "registrations": active,
        "confirmation_emails_written": messages,
    }
    checks["holds"] = (
        over_capacity == 0 and over_quota == 0 and answered == attempts and server_errors == 0
        and active == attempts
    )  # fmt: skip
    return checks


def _confirmations(event):
    from events.models import RegistrationLog
    from mail.models import OutgoingMessage

    logs = RegistrationLog.objects.filter(registration__event=event).values_list("pk", flat=True)
    return OutgoingMessage.objects.filter(idempotency_key__in=[f"registration-log:{pk}" for pk in logs])


def last_confirmation_sent(event, began: dt.datetime) -> float:
    """Seconds from the rush's start to the sending of its last confirmation: what the last
    member to register waits for the email."""
    from django.db.models import Max

    last = _confirmations(event).aggregate(last=Max("sent_at"))["last"]
    return round((last - began).total_seconds(), 1) if last else 0.0


def counter_reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_counter (id integer PRIMARY KEY, taken integer)")
        cursor.execute("DELETE FROM bench_counter")
        cursor.execute("INSERT INTO bench_counter VALUES (1, 0)")


def counter_value() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT taken FROM bench_counter WHERE id = 1")
        return cursor.fetchone()[0]


def outbox_drained(timeout: float) -> int:
    """Wait until the worker has sent what the last scenario wrote, so it does not load the next.
    Every minute the outbox's sweep runs, as the beat runs it in production (the harness starts
    no beat). Returns how many messages the sweep had to publish again (tasks lost or skipped)."""
    from mail import sending
    from mail.models import OutgoingMessage

    deadline = time.monotonic() + timeout
    next_sweep, republished = time.monotonic() + 60, 0
    while OutgoingMessage.objects.pending().exists():
        now = time.monotonic()
        if now >= deadline:
            raise RuntimeError("timed out waiting for the outbox")
        if now >= next_sweep:
            republished += sending.sweep()
            next_sweep = now + 60
        time.sleep(0.1)
    return republished


def newsletter(subscribers: int, sink) -> dict:
    """An edition to `subscribers` sent by the running worker, then the same messages in a bare
    loop over one SMTP connection from this process."""
    from django.core.mail import get_connection

    from newsletters import delivery, rendering
    from newsletters.models import Delivery, Edition, Subscriber

    Delivery.objects.all().delete()
    Edition.objects.all().delete()
    Subscriber.objects.all().delete()
    Subscriber.objects.bulk_create(
        (Subscriber(email=f"reader{n}@bench.example", language="da", status=Subscriber.Status.ACTIVE)
         for n in range(subscribers)),
        batch_size=5000,
    )  # fmt: skip
    edition = Edition.objects.create(subject="Nyhedsbrev", body="## Nyt\n\nEt afsnit med **nyheder**.")
    sink.count = 0
    started = time.perf_counter()
    delivery.send_now(edition, by="bench")
    wait_for(lambda: sink.count >= subscribers, timeout=subscribers / 20 + 60, what="the newsletter")
    worker_seconds = time.perf_counter() - started

    # The floor: what any sender must do, each subscriber's message rendered and sent over one
    # connection, without the portal's delivery rows, claims and commits.
    sink.count = 0
    started = time.perf_counter()
    renderer = rendering.EditionRenderer(edition)
    with get_connection() as smtp:
        for subscriber in Subscriber.objects.all().iterator():
            message_id = f"<bench.{subscriber.pk}@localhost>"
            smtp.send_messages([delivery.build_message(edition, subscriber, renderer, message_id=message_id)])
    bare_seconds = time.perf_counter() - started
    assert sink.count == subscribers, (sink.count, subscribers)
    return {
        "subscribers": subscribers,
        "worker_messages_per_second": round(subscribers / worker_seconds, 1),
        "bare_loop_messages_per_second": round(subscribers / bare_seconds, 1),
    }


def queries_per_page(paths: dict[str, str], member) -> dict[str, int]:
    """Queries each page makes, read in this process through the test client."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, path in paths.items():
        client = Client()
        if name.endswith("logged in"):
            client.force_login(member)
        client.get(path)  # a first request fills what any request fills once (sites, themes)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (name, path, response.status_code)
        counts[name] = len(queries)
    return counts
