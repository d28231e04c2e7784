"""The emails about registrations and events.

A change writes only a small outbox row in its transaction (the kind, what it is about, the
recipient): `outbox.defer`, or `outbox.defer_many` for every participant at once. The worker
renders the message when it sends it, with the renderers below (registered in events/apps.py),
from the database as it is then. So the event's lock is never held while templates and calendar
files are rendered, and a notice that is no longer true when its turn comes (a confirmation of a
registration cancelled since, a reminder for a cancelled event) is withdrawn instead of sent.

events.services calls the writing functions; nothing else writes these messages. This module
does not import events.services (services import it). An organizer's message is also rendered
for the admin's preview and sent once to its organizer as a test (organizer_message_email,
send_organizer_test), with the same code the worker renders it with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import get_connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from mail import services as outbox
from mail.links import absolute_url, in_language, site_host
from mail.mime import Email
from mail.models import OutgoingMessage
from mail.sending import NoLongerTrue, Rendered

from .calendar import calendar_method, moved_away_calendar, registration_calendar
from .markup import render_markdown
from .models import Event, Occasion, Registration, RegistrationLog
from .reminders import Due
from .rules import cancellation_deadline
from .selectors import meeting_link_for, reply_address, waitlist_position

Action = RegistrationLog.Action
Status = Registration.Status

# Which message tells the member about each logged change.
_TEMPLATE_FOR_ACTION = {
    Action.CONFIRMED: "registration_confirmed",
    Action.WAITLISTED: "registration_waitlisted",
    Action.PROMOTED: "registration_promoted",
    Action.OVERRIDDEN: "registration_promoted",
    Action.CANCELLED: "registration_cancelled",
}
# The state a registration notice tells: if the registration is in another one when the notice
# is sent, a later change has happened and its own notice tells the member.
_STATUS_TOLD = {
    "registration_confirmed": Status.CONFIRMED,
    "registration_promoted": Status.CONFIRMED,
    "registration_waitlisted": Status.WAITLISTED,
    "registration_cancelled": Status.CANCELLED,
}
# Why a message was withdrawn when its turn came (stored English text, like last_error).
_GONE = "The registration or the member's account no longer exists."
_CHANGED = "The registration changed before this notice was sent; a later notice tells its state."
_EVENT_CANCELLED = "The event was cancelled before this was sent; the cancellation notice tells the member."
_NEVER_TOLD = "The member was never told of the registration this notice cancels."
_NOT_CONFIRMED = "The participant no longer holds a seat."


def _language(user) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


# ---------------------------------------------------------------------------------------------
# Writing: under the caller's transaction (and the event's lock), no rendering


def _withdraw_earlier_notices(log: RegistrationLog) -> bool:
    """Withdraw the registration's earlier notices that are still waiting in the outbox, and
    say whether any of them has reached (or is reaching) the member."""
    earlier = _earlier_keys(log)
    outbox.withdraw_pending(earlier)
    return _any_reached(earlier)


def _earlier_keys(log: RegistrationLog) -> list[str]:
    return [
        f"registration-log:{pk}"
        for pk in RegistrationLog.objects.filter(registration_id=log.registration_id)
        .exclude(pk=log.pk)
        .values_list("pk", flat=True)
    ]


def _any_reached(keys: list[str]) -> bool:
    return OutgoingMessage.objects.filter(
        idempotency_key__in=keys, status__in=[OutgoingMessage.Status.SENDING, OutgoingMessage.Status.SENT]
    ).exists()


def registration_logged(log: RegistrationLog, *, first: bool = False) -> None:
    """The member's email about a logged change of their registration (`first`: its first
    change, the registration itself, so there are no earlier notices to look for).

    Each notice tells the registration's whole state and carries its calendar entry, so it
    replaces the notices of earlier changes still waiting in the outbox: a confirmation, a move
    and a move back send one email, not three. A cancellation of a registration the member has
    not heard of yet sends nothing at all (register and cancel before the mail went out).
    """
    registration = log.registration
    user = registration.user
    template = _TEMPLATE_FOR_ACTION.get(log.action)
    if log.action == Action.MOVED:
        template = (
            "registration_confirmed" if registration.status == Status.CONFIRMED else "registration_waitlisted"
        )
    if template is None or user is None:
        # No user: the account was erased; its registration stays only as a count.
        return
    heard_before = not first and _withdraw_earlier_notices(log)
    if log.action == Action.CANCELLED and not heard_before:
        return
    outbox.defer(
        key=f"registration-log:{log.pk}",
        kind=template,
        recipient=user.email,
        user=user,
        language=_language(user),
        # The event's organizer team sees the message in the outbox admin; other teams do not.
        team_id=registration.event.team_id,
        # "Moved" only to someone told of the old occasion; to anyone else it is the first news.
        about={"registration_log": log.pk, "moved": log.action == Action.MOVED and heard_before},
    )


def _defer_to_each(registrations, *, kind: str, key: str, about: dict) -> int:
    """One message to each registration's member: one query to read them and one INSERT,
    however many there are. Returns how many were written."""
    rows = (
        registrations.filter(user__isnull=False)
        .order_by("pk")
        .values_list("pk", "user_id", "user__email", "user__preferred_language", "event__team_id")
    )
    return outbox.defer_many(
        {
            "key": f"{key}:{pk}",
            "kind": kind,
            "recipient": email,
            "user_id": user_id,
            "language": language or settings.LANGUAGE_CODE,
            "team_id": team_id,
            "about": {"registration": pk, **about},
        }
        for pk, user_id, email, language, team_id in rows
    )


def occasion_changed(occasion: Occasion, changes: list[str], key: str) -> int:
    """Tell everyone registered for the occasion (confirmed or waiting) that its time, place or
    meeting link changed; `changes` names which."""
    registrations = Registration.objects.active().filter(occasion=occasion)
    return _defer_to_each(registrations, kind="event_changed", key=key, about={"changes": changes})


def event_cancelled(event: Event, *, note: str = "") -> int:
    """Tell everyone registered (confirmed or waiting) that the event is cancelled, with the
    organizer's personal `note` (plain text) if any."""
    registrations = Registration.objects.active().filter(event=event)
    about = {"note": note} if note else {}
    return _defer_to_each(
        registrations, kind="event_cancelled", key=f"event-cancelled:{event.pk}", about=about
    )


def _reminder_key(registration_id: int, days: int, starts_at: dt.datetime) -> str:
    # The date is part of the key: a postponed occasion is reminded of again.
    return f"reminder:{registration_id}:{days}d:{int(starts_at.timestamp())}"


def reminder(registration: Registration, days: int) -> None:
    user = registration.user
    if user is None:
        return
    outbox.defer(
        key=_reminder_key(registration.pk, days, registration.occasion.starts_at),
        kind="reminder",
        recipient=user.email,
        user=user,
        language=_language(user),
        team_id=registration.event.team_id,
        about={"registration": registration.pk, "days": days},
    )


def reminders(due: Iterable[Due]) -> int:
    """The reminders of a batch the reminder job claimed (events.reminders.Due), as `reminder`
    writes each: one INSERT however many there are. Returns how many were written."""
    return outbox.defer_many(
        {
            "key": _reminder_key(item.registration_id, item.days, item.starts_at),
            "kind": "reminder",
            "recipient": item.email,
            "user_id": item.user_id,
            "language": item.language or settings.LANGUAGE_CODE,
            "team_id": item.team_id,
            "about": {"registration": item.registration_id, "days": item.days},
        }
        for item in due
    )


def sender_name(organizer) -> str:
    """How an organizer signs a message to participants."""
    return organizer.full_name or organizer.email


def organizer_message(registrations, *, subject: str, body: str, key: str, sender_name: str) -> int:
    """An organizer's own message to participants (a queryset of registrations), through the
    same outbox."""
    about = {"subject": subject, "body": body, "sender": sender_name}
    return _defer_to_each(registrations, kind="organizer_message", key=key, about=about)


# ---------------------------------------------------------------------------------------------
# Rendering: in the worker, when the message is sent


def _context(registration: Registration) -> dict:
    # The pages the email links to open in the email's language (mail.links.in_language).
    language = _language(registration.user)
    return {
        "user": registration.user,
        "registration": registration,
        "event": registration.event,
        "occasion": registration.occasion,
        "day_parts": list(registration.occasion.day_parts.all()),
        "meeting_link": meeting_link_for(registration),
        "position": waitlist_position(registration),
        "wait_reason": registration.get_wait_reason_display() if registration.wait_reason else "",
        "deadline": cancellation_deadline(registration.event),
        "event_url": in_language(absolute_url(registration.event.get_absolute_url()), language),
        "registrations_url": in_language(absolute_url(reverse("events:my_registrations")), language),
    }


def _ics_attachment(registration: Registration, *, moved: bool = False) -> list[dict]:
    # The mimetype's method must be the file's METHOD, or mail clients ignore the file's intent.
    attachments = [
        {
            "filename": f"{registration.event.slug}.ics",
            "content": registration_calendar(registration).decode(),
            "mimetype": f"text/calendar; charset=utf-8; method={calendar_method(registration)}",
        }
    ]
    moved_away = moved_away_calendar(registration) if moved else None
    if moved_away is not None:
        attachments.append(
            {
                "filename": f"{registration.event.slug}-cancelled.ics",
                "content": moved_away.decode(),
                "mimetype": "text/calendar; charset=utf-8; method=CANCEL",
            }
        )
    return attachments


def _registration(pk: int) -> Registration:
    registration = (
        Registration.objects.select_related("user", "event", "occasion")
        .prefetch_related("occasion__day_parts")
        .filter(pk=pk)
        .first()
    )
    if registration is None or registration.user is None:
        raise NoLongerTrue(_GONE)
    return registration


def _rendered(
    message: OutgoingMessage, registration: Registration, extra: dict, *, ics: bool = True
) -> Rendered:
    language = message.language or _language(registration.user)
    with translation.override(language):
        context = {**_context(registration), **extra}
        attachments = _ics_attachment(registration, moved=extra.get("moved", False)) if ics else []
    subject, text, html = outbox.render(message.kind, context, language)
    return Rendered(subject, text, html, attachments, reply_address(registration.event))


def render_registration_notice(message: OutgoingMessage) -> Rendered:
    """A confirmation, waiting-list, promotion or cancellation notice, telling the registration's
    state now; withdrawn if that state is no longer the one the notice is about."""
    log = RegistrationLog.objects.filter(pk=message.about["registration_log"]).first()
    if log is None:
        raise NoLongerTrue(_GONE)
    registration = _registration(log.registration_id)
    if registration.status != _STATUS_TOLD[message.kind]:
        raise NoLongerTrue(_CHANGED)
    if message.kind == "registration_cancelled":
        # Written because an earlier notice was on its way; if that one was withdrawn in the end
        # (its state had changed), the member has heard of nothing to cancel.
        if not _any_reached(_earlier_keys(log)):
            raise NoLongerTrue(_NEVER_TOLD)
    elif registration.event.status == Event.Status.CANCELLED:
        raise NoLongerTrue(_EVENT_CANCELLED)
    return _rendered(message, registration, {"moved": message.about.get("moved", False)})


def render_event_changed(message: OutgoingMessage) -> Rendered:
    registration = _registration(message.about["registration"])
    if registration.status == Status.CANCELLED:
        raise NoLongerTrue(_GONE)
    if registration.event.status == Event.Status.CANCELLED:
        raise NoLongerTrue(_EVENT_CANCELLED)
    return _rendered(message, registration, {"changes": message.about["changes"]})


def render_event_cancelled(message: OutgoingMessage) -> Rendered:
    # The organizer's note goes as written; the HTML template escapes it.
    note = message.about.get("note", "")
    return _rendered(message, _registration(message.about["registration"]), {"note": note})


def render_reminder(message: OutgoingMessage) -> Rendered:
    registration = _registration(message.about["registration"])
    if registration.status != Status.CONFIRMED:
        raise NoLongerTrue(_NOT_CONFIRMED)
    if registration.event.status != Event.Status.PUBLISHED:
        raise NoLongerTrue(_EVENT_CANCELLED)
    return _rendered(message, registration, {"days": message.about["days"]})


def organizer_message_email(
    event: Event, user, *, subject: str, body: str, sender: str, language: str
) -> Rendered:
    """An organizer's message as `user` gets it, in `language`: what the worker sends each
    participant, what the admin's message page previews and what its test sends the organizer.
    The body is Markdown, sanitized by render_markdown; the plain text carries it as written."""
    with translation.override(language):
        context = {
            "user": user,
            "event": event,
            "event_url": absolute_url(event.get_absolute_url()),
            "message_subject": subject,
            "body": body,
            "body_html": render_markdown(body),
            "sender": sender,
        }
    rendered_subject, text, html = outbox.render("organizer_message", context, language)
    return Rendered(rendered_subject, text, html, [], reply_address(event))


def render_organizer_message(message: OutgoingMessage) -> Rendered:
    # The organizer's words go as written, whatever has changed since.
    registration = _registration(message.about["registration"])
    return organizer_message_email(
        registration.event,
        registration.user,
        subject=message.about["subject"],
        body=message.about["body"],
        sender=message.about["sender"],
        language=message.language or _language(registration.user),
    )


def send_organizer_test(event: Event, *, subject: str, body: str, organizer, language: str) -> None:
    """The organizer's message once, to the organizer alone, as a participant gets it, with the
    subject marked as a test. Straight over SMTP, like a newsletter's test: it is nobody's
    message in the outbox, and an SMTP error reaches the caller, who shows it."""
    rendered = organizer_message_email(
        event, organizer, subject=subject, body=body, sender=sender_name(organizer), language=language
    )
    with translation.override(language):
        marked = f"{gettext('[TEST]')} {rendered.subject}"
    message = Email(
        subject=marked,
        body=rendered.text,
        from_email=outbox.default_from(),
        to=[organizer.email],
        reply_to=[rendered.reply_to] if rendered.reply_to else None,
        headers={"Message-ID": make_msgid(domain=site_host())},
    )
    message.attach_alternative(rendered.html, "text/html")
    get_connection().send_messages([message])


RENDERERS = {
    **dict.fromkeys(_STATUS_TOLD, render_registration_notice),
    "event_changed": render_event_changed,
    "event_cancelled": render_event_cancelled,
    "reminder": render_reminder,
    "organizer_message": render_organizer_message,
}
