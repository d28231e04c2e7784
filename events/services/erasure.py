"""Members' data rights in the events app: the erasure of a member's registrations with the
account, and the retention of dietary and accessibility needs (registered with members.privacy
and as periodic jobs in apps.py and tasks.py)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from members.models import User

from ..models import CalendarFeed, Evaluation, Event, Registration, RegistrationLog
from .registrations import cancel, log_change

Status = Registration.Status
Reason = Registration.WaitReason
Action = RegistrationLog.Action


@transaction.atomic
def erase_member_registrations(user: User, at: dt.datetime | None = None) -> None:
    """Before an account is deleted: give up the member's places still to come, then keep every
    registration only as a count (organization, occasion, status and log stay, so seats, quotas
    and statistics stay right) without the person, their needs or their consent to be listed,
    and each evaluation only as its ratings.

    Seats on occasions not yet started are cancelled through `cancel`, so the waiting list moves
    up; so are waiting places until the occasion ends. A waiting place of an occasion that is
    over is withdrawn without promoting anyone (nobody gets a seat for a past meeting). Seats of
    occasions under way or over stay confirmed: the person was there.
    """
    at = at or timezone.now()
    still_to_come = Q(occasion__starts_at__isnull=True) | Q(occasion__starts_at__gt=at)
    waiting_not_over = Q(status=Status.WAITLISTED) & (
        Q(occasion__ends_at__isnull=True) | Q(occasion__ends_at__gte=at)
    )
    for registration in (
        Registration.objects.active()
        .filter(user=user)
        .filter(still_to_come | waiting_not_over)
        .order_by("pk")
    ):
        cancel(registration, actor=user, at=at, enforce_deadline=False, limit_rate=False)
    for registration in Registration.objects.waitlisted().filter(user=user):
        registration.status = Status.CANCELLED
        registration.cancelled_at = at
        registration.wait_reason = Reason.NONE
        registration.save(update_fields=["status", "cancelled_at", "wait_reason"])
        log_change(registration, Action.CANCELLED, user, notify=False)

    registrations = Registration.objects.filter(user=user)
    # The admin history titles its entries with str(registration), which names the member.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Registration),
        object_id__in=[str(pk) for pk in registrations.values_list("pk", flat=True)],
    ).update(object_repr=Concat(Value("#"), "object_id"))
    # An evaluation keeps its ratings (the results' counts stay right); what the member wrote in
    # their own words may name them or others, so it goes with the account.
    Evaluation.objects.filter(registration__in=registrations).update(take_home="", theme_wish="")
    registrations.update(user=None, diet="", accessibility="", listed=False)
    CalendarFeed.objects.filter(user=user).delete()


def needs_erasure_date(event: Event) -> dt.date | None:
    """The day the retention job erases the dietary and accessibility needs of the event's
    registrations (RETENTION_NEEDS_DAYS after it ends), or None while it has no dates."""
    if event.ends_at is None:
        return None
    return timezone.localdate(event.ends_at + dt.timedelta(days=settings.RETENTION_NEEDS_DAYS))


def erase_expired_needs(at: dt.datetime | None = None) -> int:
    """Erase dietary and accessibility needs (special-category data) of events that ended more
    than RETENTION_NEEDS_DAYS ago; a periodic job. Returns the number of registrations changed."""
    at = at or timezone.now()
    cutoff = at - dt.timedelta(days=settings.RETENTION_NEEDS_DAYS)
    return (
        Registration.objects.filter(event__ends_at__lt=cutoff)
        .exclude(diet="", accessibility="")
        .update(diet="", accessibility="")
    )
