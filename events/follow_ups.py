"""The follow-up email, the day after an occasion: to each participant, in their language,
through the outbox, with the materials the organizers marked for participants and the signed
link to the evaluation (events.evaluation_links).

The job (events.tasks.send_follow_ups, with the reminders every 15 minutes) writes the messages
from FOLLOW_UP_HOUR local time on the day after the occasion ended; an outage of up to
CATCH_UP_DAYS is caught up, an older occasion gets none. Each message's key is
"follow-up:<registration>:", so however often the job runs, or two runs overlap, a participant
gets one. Like every registration email it is rendered when sent (render_follow_up), from the
registration as it is then: one cancelled or marked absent since is not written to. Organizers
turn it off per event (Event.sends_follow_up): none is written, and one written already is
withdrawn."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone, translation

from mail import services as outbox
from mail.links import absolute_url, in_language
from mail.models import OutgoingMessage
from mail.sending import NoLongerTrue, Rendered

from . import evaluation_links
from .models import Event, Occasion, Registration
from .rules import evaluation_closes
from .selectors import participant_documents, reply_address

KIND = "follow_up"
FOLLOW_UP_HOUR = 9
CATCH_UP_DAYS = 3
BATCH = 500

_NOT_A_PARTICIPANT = "The registration no longer holds a seat, or its member was marked absent."
_EVENT_CANCELLED = "The event was cancelled."
_SWITCHED_OFF = "The organizers turned the event's follow-up email off."


def _key(registration_id: int) -> str:
    # Ends with ":" so that a prefix names one registration's (the event dashboard counts by prefix).
    return f"follow-up:{registration_id}:"


def due(at: dt.datetime) -> QuerySet[Registration]:
    """The participants of occasions that ended before today (local), within CATCH_UP_DAYS,
    without a follow-up yet; none before FOLLOW_UP_HOUR."""
    local = timezone.localtime(at)
    if local.hour < FOLLOW_UP_HOUR:
        return Registration.objects.none()
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    written = OutgoingMessage.objects.filter(
        idempotency_key=Concat(
            Value("follow-up:"), Cast(OuterRef("pk"), CharField()), Value(":"), output_field=CharField()
        )
    )
    return (
        Registration.objects.confirmed()
        .exclude(attended=False)
        .filter(
            user__isnull=False,
            event__status=Event.Status.PUBLISHED,
            event__sends_follow_up=True,
            occasion__ends_at__lt=today,
            occasion__ends_at__gte=today - dt.timedelta(days=CATCH_UP_DAYS),
        )
        .exclude(Exists(written))
        .order_by("pk")
    )


def send_follow_ups(at: dt.datetime | None = None) -> int:
    """Write the follow-ups that are due, a batch at a time; returns how many were written."""
    at = at or timezone.now()
    written = 0
    while True:
        batch = list(
            due(at).values_list("pk", "user_id", "user__email", "user__preferred_language", "event__team_id")[
                :BATCH
            ]
        )
        written += outbox.defer_many(
            {
                "key": _key(pk),
                "kind": KIND,
                "recipient": email,
                "user_id": user_id,
                "language": language or settings.LANGUAGE_CODE,
                "team_id": team_id,
                "about": {"registration": pk},
            }
            for pk, user_id, email, language, team_id in batch
        )
        if len(batch) < BATCH:
            return written


def render_follow_up(message: OutgoingMessage) -> Rendered:
    registration = (
        Registration.objects.select_related("user", "event", "occasion")
        .prefetch_related("occasion__day_parts")
        .filter(pk=message.about["registration"], user__isnull=False)
        .first()
    )
    if registration is None or registration.status != Registration.Status.CONFIRMED:
        raise NoLongerTrue(_NOT_A_PARTICIPANT)
    if registration.attended is False:
        raise NoLongerTrue(_NOT_A_PARTICIPANT)
    if registration.event.status != Event.Status.PUBLISHED:
        raise NoLongerTrue(_EVENT_CANCELLED)
    if not registration.event.sends_follow_up:
        raise NoLongerTrue(_SWITCHED_OFF)
    language = message.language or registration.user.preferred_language or settings.LANGUAGE_CODE
    evaluation_url = in_language(evaluation_links.evaluation_url(registration), language)
    subject, text, html = _email(
        registration.event, registration.occasion, registration.user, evaluation_url, language
    )
    return Rendered(subject, text, html, [], reply_address(registration.event))


def preview(event: Event, occasion: Occasion | None, viewer, language: str) -> Rendered | None:
    """The follow-up of `occasion` (the event's first with dates when None) as a participant
    gets it, addressed to `viewer`, for organizers to read before it goes out; None when the
    event has no occasion with dates yet. Its evaluation link opens no evaluation: each
    participant's own is signed for their registration."""
    occasion = occasion or event.occasions.filter(ends_at__isnull=False).order_by("starts_at", "pk").first()
    if occasion is None or occasion.ends_at is None:
        return None
    nobodys = absolute_url(reverse("events:evaluation", args=["0:preview"]))
    subject, text, html = _email(event, occasion, viewer, in_language(nobodys, language), language)
    return Rendered(subject, text, html, [], reply_address(event))


def _email(
    event: Event, occasion: Occasion, user, evaluation_url: str, language: str
) -> tuple[str, str, str]:
    with translation.override(language):
        context = {
            "user": user,
            "event": event,
            "occasion": occasion,
            "documents": [
                {"title": document.title, "url": absolute_url(document.href)}
                for document in participant_documents(event)
            ],
            "evaluation_url": evaluation_url,
            "closes": evaluation_closes(occasion),
            "event_url": in_language(absolute_url(event.get_absolute_url()), language),
        }
    return outbox.render(KIND, context, language)
