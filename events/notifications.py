"""The emails about registrations and events, written to the outbox in the transaction of the
change that causes them (events.services calls these; nothing else sends them)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from network_portal.links import absolute_url
from network_portal.outbox import services as outbox
from network_portal.outbox.models import OutgoingMessage

from .calendar import registration_calendar
from .markup import render_markdown
from .models import MAX_REMINDER_DAYS, Event, Occasion, Registration, RegistrationLog

Action = RegistrationLog.Action

# Which message tells the member about each logged change.
_TEMPLATE_FOR_ACTION = {
    Action.CONFIRMED: "registration_confirmed",
    Action.WAITLISTED: "registration_waitlisted",
    Action.PROMOTED: "registration_promoted",
    Action.OVERRIDDEN: "registration_promoted",
    Action.CANCELLED: "registration_cancelled",
}


def _language(user) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


def _reply_to(event: Event) -> str:
    contact = event.contacts.first()
    return contact.email if contact else ""


def _context(registration: Registration) -> dict:
    from . import services

    occasion = registration.occasion
    confirmed = registration.status == Registration.Status.CONFIRMED
    return {
        "user": registration.user,
        "registration": registration,
        "event": registration.event,
        "occasion": occasion,
        "day_parts": list(occasion.day_parts.all()),
        # The meeting link goes only to those with a seat, as on the event page.
        "meeting_link": occasion.online_url
        if confirmed and registration.event.status == Event.Status.PUBLISHED
        else "",
        "position": services.waitlist_position(registration),
        "wait_reason": registration.get_wait_reason_display() if registration.wait_reason else "",
        "deadline": services.cancellation_deadline(registration.event),
        "event_url": absolute_url(registration.event.get_absolute_url()),
        "registrations_url": absolute_url(reverse("events:my_registrations")),
    }


def _ics_attachment(registration: Registration) -> list[dict]:
    return [
        {
            "filename": f"{registration.event.slug}.ics",
            "content": registration_calendar(registration).decode(),
            "mimetype": "text/calendar; charset=utf-8; method=PUBLISH",
        }
    ]


def _send(registration: Registration, template: str, key: str, extra: dict | None = None, ics: bool = False):
    user = registration.user
    if user is None:
        # The account was erased; its registration stays only as a count, with nobody to tell.
        return None
    language = _language(user)
    with translation.override(language):
        context = {**_context(registration), **(extra or {})}
        attachments = _ics_attachment(registration) if ics else []
    subject, text, html = outbox.render(template, context, language)
    return outbox.enqueue(
        key=key,
        kind=template,
        recipient=user.email,
        user=user,
        language=language,
        subject=subject,
        text=text,
        html=html,
        reply_to=_reply_to(registration.event),
        attachments=attachments,
        # The event's organizer team sees the message in the outbox admin; other teams do not.
        team=registration.event.team,
    )


def _withdraw_earlier_notices(log: RegistrationLog) -> bool:
    """Withdraw the registration's earlier notices that are still waiting in the outbox, and
    say whether any of them has reached (or is reaching) the member."""
    earlier = [
        f"registration-log:{pk}"
        for pk in RegistrationLog.objects.filter(registration_id=log.registration_id)
        .exclude(pk=log.pk)
        .values_list("pk", flat=True)
    ]
    outbox.withdraw_pending(earlier)
    return OutgoingMessage.objects.filter(
        idempotency_key__in=earlier, status__in=[OutgoingMessage.Status.SENDING, OutgoingMessage.Status.SENT]
    ).exists()


def registration_logged(log: RegistrationLog) -> None:
    """The member's email about a logged change of their registration.

    Each notice tells the registration's whole state and carries its calendar entry, so it
    replaces the notices of earlier changes still waiting in the outbox: a confirmation, a move
    and a move back send one email, not three. A cancellation of a registration the member has
    not heard of yet sends nothing at all (register and cancel before the mail went out).
    """
    registration = log.registration
    template = _TEMPLATE_FOR_ACTION.get(log.action)
    if log.action == Action.MOVED:
        template = (
            "registration_confirmed"
            if registration.status == Registration.Status.CONFIRMED
            else "registration_waitlisted"
        )
    if template is None:
        return
    heard_before = _withdraw_earlier_notices(log)
    if log.action == Action.CANCELLED and not heard_before:
        return
    # Every notice carries the calendar entry in its new state; a cancellation's entry is
    # marked CANCELLED with the same UID, so calendar programs remove the meeting.
    _send(
        registration,
        template,
        key=f"registration-log:{log.pk}",
        # "Moved" only to someone told of the old occasion; to anyone else it is the first news.
        extra={"moved": log.action == Action.MOVED and heard_before},
        ics=True,
    )


def occasion_changed(occasion: Occasion, changes: list[str], key: str) -> int:
    """Tell everyone registered for the occasion (confirmed or waiting) that its time, place or
    meeting link changed; `changes` names which."""
    count = 0
    for registration in _active(occasion.event).filter(occasion=occasion):
        _send(
            registration,
            "event_changed",
            key=f"{key}:{registration.pk}",
            extra={"changes": changes},
            ics=True,
        )
        count += 1
    return count


def event_cancelled(event: Event) -> int:
    count = 0
    for registration in _active(event):
        _send(registration, "event_cancelled", key=f"event-cancelled:{event.pk}:{registration.pk}", ics=True)
        count += 1
    return count


def reminder(registration: Registration, days: int) -> None:
    _send(
        registration,
        "reminder",
        # The date is part of the key: a postponed occasion is reminded of again.
        key=f"reminder:{registration.pk}:{days}d:{int(registration.occasion.starts_at.timestamp())}",
        extra={"days": days},
        ics=True,
    )


def organizer_message(registrations, *, subject: str, body: str, key: str, sender_name: str) -> int:
    """An organizer's own message to participants, through the same outbox."""
    count = 0
    for registration in registrations:
        _send(
            registration,
            "organizer_message",
            key=f"{key}:{registration.pk}",
            extra={
                "message_subject": subject,
                "body": body,
                "body_html": render_markdown(body),
                "sender": sender_name,
            },
        )
        count += 1
    return count


def _active(event: Event):
    return (
        Registration.objects.active()
        .filter(event=event)
        .select_related("user", "event", "occasion")
        .prefetch_related("occasion__day_parts")
    )


def due_reminders(at: dt.datetime | None = None) -> list[tuple[Registration, int]]:
    """(registration, days) pairs whose reminder is due now and not yet sent.

    Only occasions starting within the longest allowed offset are read, so the cost follows
    the occasions that are due, not all registrations in the database. A reminder is due when
    its offset has been reached but not the next smaller one (a late job never sends a stale
    "in 7 days" next to "tomorrow"), and only to people who held their seat before then.
    """
    at = at or timezone.now()
    occasions = Occasion.objects.filter(
        starts_at__gt=at,
        starts_at__lte=at + dt.timedelta(days=MAX_REMINDER_DAYS),
        event__status=Event.Status.PUBLISHED,
    ).select_related("event")
    due = []
    for occasion in occasions:
        offsets = sorted(set(occasion.event.reminder_days), reverse=True)
        for index, days in enumerate(offsets):
            window_start = occasion.starts_at - dt.timedelta(days=days)
            smaller = offsets[index + 1] if index + 1 < len(offsets) else 0
            if not window_start <= at < occasion.starts_at - dt.timedelta(days=smaller):
                continue
            registrations = (
                Registration.objects.confirmed()
                .filter(occasion=occasion, confirmed_at__lte=window_start)
                .filter(Q(last_reminder_days__isnull=True) | Q(last_reminder_days__gt=days))
                .select_related("user", "event", "occasion")
                .prefetch_related("occasion__day_parts")
            )
            due += [(registration, days) for registration in registrations]
    return due
