"""Read-only queries for the newsletter pages, the archive and the editions' blocks. Nothing
here changes anything; changes are in newsletters.services."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from events.models import DayPart, Document, Event, Occasion
from members.models import User

from .models import Edition, Subscriber


def member_subscriber(user: User, *, normalized_email: str | None = None) -> Subscriber | None:
    """The member's subscription: the one linked to the account, else (given the account's
    verified address, normalized) the one of that address."""
    subscriber = Subscriber.objects.filter(user=user).first()
    if subscriber is None and normalized_email:
        subscriber = Subscriber.objects.filter(email=normalized_email).first()
    return subscriber


def sent_editions() -> QuerySet:
    """Editions that have gone out: the only ones the public archive shows."""
    return Edition.objects.filter(status=Edition.Status.SENT)


def archive_editions() -> QuerySet:
    """Sent editions, newest first, with only what the archive's list shows."""
    return (
        sent_editions().order_by("-sent_at", "-pk").only("pk", "subject", "preheader", "language", "sent_at")
    )


def upcoming_events(at: dt.datetime, limit: int) -> list[Event]:
    """Published events not over at `at` and already published then, with their occasions'
    seats and day parts: three queries. Not events.selectors.upcoming_events(): that one
    includes cancelled events, which a newsletter must not advertise, and knows only "now",
    while the web version of an old edition shows the events as they were when it went out."""
    occasions = Occasion.objects.with_seats().prefetch_related(
        Prefetch("day_parts", queryset=DayPart.objects.order_by("number"))
    )
    events = (
        Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gte=at)
        .filter(Q(published_at__isnull=True) | Q(published_at__lte=at))
        .prefetch_related(Prefetch("occasions", queryset=occasions.order_by("starts_at", "pk")))
        .order_by("starts_at", "title")
    )
    return list(events[:limit])


def recent_documents(at: dt.datetime, *, days: int, limit: int) -> list[Document]:
    """Documents added in the `days` before `at`, newest first, with their event or series;
    none of a draft event, whose material is not public yet."""
    documents = (
        Document.objects.filter(added_at__lte=at, added_at__gte=at - dt.timedelta(days=days))
        .filter(Q(event__isnull=True) | ~Q(event__status=Event.Status.DRAFT))
        .select_related("event", "series")
        .order_by("-added_at", "-pk")
    )
    return list(documents[:limit])
