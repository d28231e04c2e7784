"""Event alerts: a short email about a newly open event to each subscriber who asked for them,
written once per event and subscriber (a periodic job claims each event first)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from events.models import Event, Occasion
from mail import services as outbox
from mail.links import absolute_url, in_language
from mail.models import OutgoingMessage

from .. import tokens
from ..models import EventAlert, Subscriber


def event_alert_recipients(event: Event) -> QuerySet:
    """Active subscribers with alerts on who follow the event's main theme or one of its other
    themes, or all topics."""
    themes = [event.main_theme, *event.themes.all()]
    return Subscriber.objects.for_topics(themes).filter(event_alerts=True)


@transaction.atomic
def send_event_alerts(event: Event) -> int:
    """Write a short email about `event` to each subscriber who wants one. The outbox key names
    the event and the subscriber, so running this again (a periodic job, a retry) sends nobody a
    second alert; returns how many alerts were written by this call. Drafts get none."""
    if event.status != Event.Status.PUBLISHED:
        return 0
    prefix = f"event-alert:{event.pk}:"
    already = set(
        OutgoingMessage.objects.filter(idempotency_key__startswith=prefix).values_list(
            "idempotency_key", flat=True
        )
    )
    occasions = list(
        Occasion.objects.with_seats().filter(event=event).prefetch_related("day_parts").order_by("starts_at")
    )
    base = {
        "event": event,
        "occasions": occasions,
        "seats_left": sum(occasion.seats_left for occasion in occasions),
        "event_url": absolute_url(event.get_absolute_url()),
    }
    count = 0
    for subscriber in event_alert_recipients(event).iterator(chunk_size=500):
        key = f"{prefix}{subscriber.pk}"
        if key in already:
            continue
        unsubscribe_link = tokens.unsubscribe_url(subscriber)
        context = {
            **base,
            "subscriber": subscriber,
            # The event page opens in the alert's language (mail.links.in_language).
            "event_url": in_language(base["event_url"], subscriber.language),
            "preferences_url": tokens.preferences_url(subscriber),
            "unsubscribe_url": unsubscribe_link,
        }
        outbox.write(
            "event_alert",
            context,
            key=key,
            recipient=subscriber.email,
            language=subscriber.language,
            user=subscriber.user,
            headers=tokens.list_unsubscribe_headers(unsubscribe_link),
        )
        count += 1
    return count


def send_due_event_alerts(at: dt.datetime | None = None) -> int:
    """Alerts for events that are published and open for registration and have had none yet:
    a periodic job. Each event is claimed first by inserting its EventAlert row (the event is
    its key: an overlapping run waits on the insert, then finds the row and skips the event), so
    its alerts are written once; the outbox keys make each subscriber's alert unique besides."""
    at = at or timezone.now()
    written = 0
    due = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        registration_opens_at__lte=at,
        registration_closes_at__gt=at,
    ).exclude(Exists(EventAlert.objects.filter(event=OuterRef("pk"))))
    for event in due:
        with transaction.atomic():
            _alert, claimed = EventAlert.objects.get_or_create(event=event, defaults={"sent_at": at})
            if claimed:
                written += send_event_alerts(event)
    return written
