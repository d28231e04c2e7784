"""Registration rules. Only this module changes who holds which seat; views, admin actions,
commands, the other services and tests all call it.

Locking: an organization's quota spans every occasion of an event, so whether a seat may be
given depends on rows across the whole event. Every change is therefore decided under one lock,
the event's row (SELECT ... FOR UPDATE), taken first in the transaction, and availability is
counted again after it is held. One lock per decision means there is no order to get wrong and
so no deadlock, and two people can never both take the last seat or the last quota place.
Registrations for different events do not wait for each other.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User
from network_portal import batching
from network_portal.page_cache import public_pages_changed

from .. import notifications
from ..errors import RegistrationError
from ..models import Event, Occasion, Registration, RegistrationLog
from ..permissions import may_act_for, organizes
from ..rules import cancellation_deadline
from ..seats import Seats
from . import throttle
from .snapshot import lock_and_read, lock_statement

Status = Registration.Status
Reason = Registration.WaitReason
Action = RegistrationLog.Action


# ---------------------------------------------------------------------------------------------
# Reading: seats and windows


def registration_is_open(event: Event, at: dt.datetime | None = None) -> bool:
    at = at or timezone.now()
    return (
        event.status == Event.Status.PUBLISHED
        and event.registration_opens_at <= at < event.registration_closes_at
    )


def registration_state(event: Event, at: dt.datetime | None = None) -> str:
    """One of "open", "not_yet", "closed", "cancelled", for pages to word."""
    at = at or timezone.now()
    if event.status == Event.Status.CANCELLED:
        return "cancelled"
    if registration_is_open(event, at):
        return "open"
    return "not_yet" if at < event.registration_opens_at else "closed"


def lock_event(event_id: int) -> Event:
    """The one lock every decision about the event's seats is taken under (see above)."""
    # Whatever is decided under it changes seats on public pages, however it is written.
    public_pages_changed()
    for event in Event.objects.raw(*lock_statement(event_id)):
        return event
    raise Event.DoesNotExist("The event no longer exists.")


def log_change(
    registration: Registration,
    action: str,
    actor: User | None,
    detail: str = "",
    notify: bool = True,
    first: bool = False,
    counted: bool = False,
    log_id: int | None = None,
) -> None:
    """Record a change to the registration; `counted` counts it against the limit on changes
    (throttle.check says whether it does). `log_id`: an id drawn for the entry ahead."""
    log = RegistrationLog(
        pk=log_id,
        registration=registration,
        action=action,
        actor=actor,
        detail=detail,
        counted=counted,
        member_id=registration.user_id if counted else None,
    )
    # Without post_save, whose only receiver marks public pages changed after the commit: no
    # page shows a log, and the change logged has done so (lock_event, or its own save).
    batching.insert(log)
    if notify:
        # The email is written in this same transaction (the outbox), so it exists exactly
        # when the change does.
        notifications.registration_logged(log, first=first)


def calendar_changed(registrations: QuerySet) -> int:
    """Raise the calendar SEQUENCE of `registrations` after a change their calendar entries show
    (new times or place, the event cancelled), so calendar apps replace what they have."""
    return registrations.update(calendar_sequence=F("calendar_sequence") + 1)


def _check_window(event: Event, at: dt.datetime) -> None:
    if event.status == Event.Status.CANCELLED:
        raise RegistrationError(_("This event is cancelled."), "cancelled")
    if not registration_is_open(event, at):
        if at < event.registration_opens_at:
            raise RegistrationError(_("Registration has not opened yet."), "not_open")
        raise RegistrationError(_("Registration is closed."), "closed")


def _check_actor(actor: User | None, member: User | None, event_id: int) -> None:
    if actor is None:
        return
    if not may_act_for(actor, member, event_id=event_id):
        raise RegistrationError(_("You may not change registrations of this member."), "forbidden")


# ---------------------------------------------------------------------------------------------
# Changing: register, cancel, move, promote


@transaction.atomic
def register(
    user: User,
    occasion: Occasion,
    *,
    actor: User | None = None,
    diet: str = "",
    accessibility: str = "",
    listed: bool = False,
    at: dt.datetime | None = None,
) -> Registration:
    """Give the member a seat on the occasion, or a place on its waiting list with the reason.

    A second press of the button returns the registration the first one made.
    """
    at = at or timezone.now()
    _check_actor(actor, user, occasion.event_id)
    allowed = throttle.check(user, actor, occasion.event_id)  # before the lock: a refused flood never waits
    # The lock and the rest of what the decision reads, as it is once the lock is held.
    event, member, taken = lock_and_read(user.pk, occasion.pk, occasion.event_id)
    _check_window(event, at)
    if taken.occasion_capacity is None:
        raise Occasion.DoesNotExist("The occasion no longer exists.")
    if taken.occasion_starts_at is None:
        raise RegistrationError(_("This occasion has no date yet."), "no_date")
    if not member.profile_complete:
        raise RegistrationError(_("Complete your profile before you register."), "profile")
    if taken.registered_id is not None:
        if taken.registered_occasion_id == occasion.pk:
            return Registration.objects.get(pk=taken.registered_id)
        raise RegistrationError(
            _("You are already registered for another occasion of this event. Move that registration."),
            "already_registered",
        )

    seats = Seats.of_one(
        event,
        at,
        occasion_id=occasion.pk,
        capacity=taken.occasion_capacity,
        taken=taken.occasion_taken,
        organization_id=member.organization_id,
        organization_taken=taken.organization_taken,
    )
    reason = seats.on_registering(occasion.pk, member)
    registration = Registration(
        pk=taken.next_registration_id,
        user=member,
        event=event,
        occasion=occasion,
        organization_id=member.organization_id,
        status=Status.WAITLISTED if reason else Status.CONFIRMED,
        wait_reason=reason,
        created_at=at,
        queued_at=at,
        confirmed_at=None if reason else at,
        diet=diet,
        accessibility=accessibility,
        listed=listed,
    )
    # The registration, its log entry, its email and, for a seat, the public pages' new version
    # in one round trip where the ids were drawn ahead; without post_save, as in log_change,
    # whose only receiver would mark the pages changed. Public pages show the seats left, which
    # a place on the waiting list leaves as they were: in a rush most registrations are such
    # places, and the pages stay cached through them.
    with batching.batched():
        if not reason:
            public_pages_changed()
        batching.insert(registration)
        log_change(
            registration,
            Action.WAITLISTED if reason else Action.CONFIRMED,
            actor or member,
            first=True,
            counted=allowed.counted,
            log_id=taken.next_log_id,
        )
    return registration


@transaction.atomic
def cancel(
    registration: Registration,
    *,
    actor: User,
    at: dt.datetime | None = None,
    enforce_deadline: bool = True,
    limit_rate: bool = True,
) -> list[Registration]:
    """Cancel a registration and, in the same transaction, promote whoever now fits.

    Participants may cancel until the cancellation deadline; organizers any time, and so does
    the erasure of an account (`enforce_deadline=False`: nobody is left to take the seat).
    Members and coordinators are rate-limited, except when the erasure cancels everything at
    once (`limit_rate=False`). Returns the registrations promoted from the waiting list.
    """
    at = at or timezone.now()
    _check_actor(actor, registration.user, registration.event_id)
    allowed = throttle.check(registration.user, actor, registration.event_id, enabled=limit_rate)
    event = lock_event(registration.event_id)
    registration.refresh_from_db()
    if not registration.is_active:
        return []
    deadline = cancellation_deadline(event)
    if (
        registration.status == Status.CONFIRMED
        and enforce_deadline
        and not organizes(actor, event.pk)
        and deadline is not None
        and at > deadline
    ):
        raise RegistrationError(
            _("The cancellation deadline has passed. Please contact the organizer."), "deadline"
        )
    registration.status = Status.CANCELLED
    registration.cancelled_at = at
    registration.wait_reason = Reason.NONE
    registration.calendar_sequence += 1
    registration.save(update_fields=["status", "cancelled_at", "wait_reason", "calendar_sequence"])
    log_change(registration, Action.CANCELLED, actor, counted=allowed.counted)
    return promote_locked(event, at, actor=None)


@transaction.atomic
def move(
    registration: Registration, occasion: Occasion, *, actor: User, at: dt.datetime | None = None
) -> Registration:
    """Switch to another occasion of the same event in one step.

    A confirmed participant keeps the old seat when the new occasion has none to give; someone
    waiting joins the new occasion's waiting list at its end.
    """
    at = at or timezone.now()
    _check_actor(actor, registration.user, registration.event_id)
    allowed = throttle.check(registration.user, actor, registration.event_id)
    event = lock_event(registration.event_id)
    registration.refresh_from_db()
    if occasion.event_id != event.pk:
        raise RegistrationError(_("That occasion belongs to another event."), "other_event")
    if not registration.is_active:
        raise RegistrationError(_("This registration is cancelled."), "cancelled_registration")
    if registration.occasion_id == occasion.pk:
        return registration
    occasion = Occasion.objects.get(pk=occasion.pk)
    if occasion.starts_at is None:
        raise RegistrationError(_("This occasion has no date yet."), "no_date")
    if not organizes(actor, event.pk) and not registration_is_open(event, at):
        raise RegistrationError(_("Registration is closed."), "closed")

    seats = Seats.count(event, at)
    was_confirmed = registration.status == Status.CONFIRMED
    if was_confirmed:
        # The seat being given up counts for neither occasion nor quota in this decision.
        seats.release(registration.occasion_id, registration.organization_id)
    reason = seats.reason_to_wait(occasion.pk, registration.user, registration.organization_id)
    if reason and was_confirmed:
        raise RegistrationError(
            _("There is no free seat on that occasion. You keep your seat on %(occasion)s.")
            % {"occasion": registration.occasion.display_label},
            "no_seat",
        )
    old_label = registration.occasion.display_label
    registration.occasion = occasion
    registration.last_reminder_days = None  # reminders of the new date are still to come
    registration.status = Status.WAITLISTED if reason else Status.CONFIRMED
    registration.wait_reason = reason
    registration.calendar_sequence += 1  # the same calendar entries, at the new occasion's times
    if reason:
        registration.queued_at = at
    elif not was_confirmed:
        registration.confirmed_at = at
    registration.save()
    log_change(
        registration,
        Action.MOVED,
        actor,
        detail=f"{old_label} → {occasion.display_label}",
        counted=allowed.counted,
    )
    if was_confirmed:
        promote_locked(event, at, actor=None)
    return registration


@transaction.atomic
def promote_waitlist(event: Event, *, at: dt.datetime | None = None) -> list[Registration]:
    """Give freed seats to the waiting list, e.g. after capacity grew, a membership was verified
    or the organization seats were released. Safe to run any number of times."""
    return promote_locked(lock_event(event.pk), at or timezone.now(), actor=None)


def promote_locked(event: Event, at: dt.datetime, actor: User | None = None) -> list[Registration]:
    """Promote, in the event's waiting-list order, everyone who now fits both the capacity of
    their occasion and their organization's quota. The caller holds the event lock."""
    if event.status != Event.Status.PUBLISHED:
        return []
    waiting = list(
        Registration.objects.waitlisted()
        .filter(event=event)
        .select_related("user")
        .order_by("queued_at", "pk")
    )
    if not waiting:
        return []
    seats = Seats.count(event, at)
    promoted = []
    while True:
        if event.waitlist_policy == Event.WaitlistPolicy.FAIR:
            # Organizations with no confirmed seat yet go first; the order within each group stays.
            waiting.sort(key=lambda r: seats.by_organization.get(r.organization_id, 0) > 0)
        chosen = next(
            (r for r in waiting if not seats.reason_to_wait(r.occasion_id, r.user, r.organization_id)), None
        )
        if chosen is None:
            break
        waiting.remove(chosen)
        seats.take(chosen.occasion_id, chosen.organization_id)
        chosen.status = Status.CONFIRMED
        chosen.wait_reason = Reason.NONE
        chosen.confirmed_at = at
        chosen.calendar_sequence += 1  # no longer tentative
        chosen.save(update_fields=["status", "wait_reason", "confirmed_at", "calendar_sequence"])
        log_change(chosen, Action.PROMOTED, actor)
        promoted.append(chosen)
    # Keep the stated reasons of those still waiting true.
    for registration in waiting:
        reason = seats.reason_to_wait(
            registration.occasion_id, registration.user, registration.organization_id
        )
        if reason and reason != registration.wait_reason:
            registration.wait_reason = reason
            registration.save(update_fields=["wait_reason"])
    return promoted


@transaction.atomic
def confirm_over_quota(registration: Registration, *, organizer: User, at: dt.datetime | None = None) -> None:
    """An organizer's explicit override: confirm a waiting registration beyond the organization
    quota (never beyond the occasion's seats). Logged with the organizer's name."""
    at = at or timezone.now()
    if not organizes(organizer, registration.event_id):
        raise RegistrationError(_("Only organizers may confirm over quota."), "forbidden")
    event = lock_event(registration.event_id)
    registration.refresh_from_db()
    if registration.status != Status.WAITLISTED:
        raise RegistrationError(_("Only a waiting registration can be confirmed over quota."), "not_waiting")
    seats = Seats.count(event, at)
    if seats.by_occasion.get(registration.occasion_id, 0) >= seats.capacity[registration.occasion_id]:
        raise RegistrationError(_("The occasion is full; raise its seats first."), "full")
    registration.status = Status.CONFIRMED
    registration.wait_reason = Reason.NONE
    registration.confirmed_at = at
    registration.over_quota = True
    registration.calendar_sequence += 1
    registration.save(
        update_fields=["status", "wait_reason", "confirmed_at", "over_quota", "calendar_sequence"]
    )
    log_change(registration, Action.OVERRIDDEN, organizer)


def promote_user_waitlists(user: User) -> None:
    """After a membership was verified: the member's waiting registrations may now fit."""
    event_ids = (
        Registration.objects.waitlisted().filter(user=user).values_list("event_id", flat=True).distinct()
    )
    for event in Event.objects.filter(pk__in=list(event_ids)):
        promote_waitlist(event)


def promote_all_waitlists(at: dt.datetime | None = None) -> list[Registration]:
    """Promote on every upcoming event that has a waiting list; a periodic job, so that seats
    released at an event's release date reach the waiting list without anyone acting."""
    at = at or timezone.now()
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        ends_at__gte=at,
        registrations__status=Status.WAITLISTED,
    ).distinct()
    promoted = []
    for event in events:
        promoted += promote_waitlist(event, at=at)
    return promoted
