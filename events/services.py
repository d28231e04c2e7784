"""Registration rules. Only this module changes registration state; views, admin actions,
commands and tests all call it.

Locking: an organization's quota spans every occasion of an event, so whether a seat may be
given depends on rows across the whole event. Every change is therefore decided under one lock,
the event's row (SELECT ... FOR UPDATE), taken first in the transaction, and availability is
counted again after it is held. One lock per decision means there is no order to get wrong and
so no deadlock, and two people can never both take the last seat or the last quota place.
Registrations for different events do not wait for each other.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import User

from . import notifications
from .models import Event, Occasion, Registration, RegistrationLog

Status = Registration.Status
Reason = Registration.WaitReason
Action = RegistrationLog.Action


class RegistrationError(Exception):
    """A rule refused the change; the message is translated and meant for the member."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


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


def cancellation_deadline(event: Event) -> dt.datetime | None:
    return event.cancellation_deadline or event.starts_at


def _confirmed_by_occasion(event: Event) -> dict[int, int]:
    rows = (
        Registration.objects.confirmed()
        .filter(event=event)
        .values("occasion_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["occasion_id"]: row["n"] for row in rows}


def _confirmed_by_organization(event: Event) -> dict[int, int]:
    rows = (
        Registration.objects.confirmed()
        .filter(event=event)
        .values("organization_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["organization_id"]: row["n"] for row in rows}


@dataclass
class _Seats:
    """Counts of one event, taken under its lock and kept up to date while deciding."""

    event: Event
    at: dt.datetime
    capacity: dict[int, int]
    by_occasion: dict[int, int]
    by_organization: dict[int, int]

    @classmethod
    def count(cls, event: Event, at: dt.datetime) -> _Seats:
        capacity = dict(Occasion.objects.filter(event=event).values_list("pk", "capacity"))
        return cls(event, at, capacity, _confirmed_by_occasion(event), _confirmed_by_organization(event))

    def reason_to_wait(self, occasion_id: int, user: User, organization_id: int) -> str:
        """Why this person cannot have a seat on the occasion now ("" when they can). The
        reason the member can act on comes first: a verification, then the organization's seats."""
        if self.event.quota_applies(self.at):
            if not (user.organization_verified and user.organization_id == organization_id):
                return Reason.UNVERIFIED
            if self.by_organization.get(organization_id, 0) >= self.event.organization_quota:
                return Reason.QUOTA
        if self.by_occasion.get(occasion_id, 0) >= self.capacity[occasion_id]:
            return Reason.FULL
        return Reason.NONE

    def take(self, occasion_id: int, organization_id: int) -> None:
        self.by_occasion[occasion_id] = self.by_occasion.get(occasion_id, 0) + 1
        self.by_organization[organization_id] = self.by_organization.get(organization_id, 0) + 1

    def release(self, occasion_id: int, organization_id: int) -> None:
        self.by_occasion[occasion_id] -= 1
        self.by_organization[organization_id] -= 1


def _lock(event_id: int) -> Event:
    return Event.objects.select_for_update().get(pk=event_id)


def _log(registration: Registration, action: str, actor: User | None, detail: str = "", notify: bool = True):
    log = RegistrationLog.objects.create(
        registration=registration, action=action, actor=actor, detail=detail, notify=notify
    )
    if notify:
        # The email is written in this same transaction (the outbox), so it exists exactly
        # when the change does.
        notifications.registration_logged(log)


def organizes(actor: User | None, event_id: int) -> bool:
    """An organizer of the event's team (or a superuser) who may change its registrations.
    Staff status alone is not enough: organizers see and change only their teams' events."""
    return (
        actor is not None
        and actor.is_staff
        and actor.has_perm("events.change_registration")
        and Event.objects.visible_to(actor).filter(pk=event_id).exists()
    )


def may_act_for(actor: User, member: User | None, *, event_id: int) -> bool:
    """Members act for themselves; an organization coordinator for verified colleagues; an
    organizer for anyone registered for their teams' events."""
    if organizes(actor, event_id):
        return True
    if member is None:  # the account was erased: only organizers change what is left
        return False
    if actor.pk == member.pk:
        return True
    return bool(
        actor.is_organization_coordinator
        and actor.organization_verified
        and member.organization_verified
        and actor.organization_id == member.organization_id
    )


def _check_actor(actor: User | None, member: User | None, event_id: int) -> None:
    if actor is None:
        return
    if not may_act_for(actor, member, event_id=event_id):
        raise RegistrationError(_("You may not change registrations of this member."), "forbidden")


def _rate_keys(member: User | None, actor: User | None, event_id: int) -> list[str]:
    """The counters a change is checked against and counted on: the member whose registration
    it is, and whoever acts for them (a coordinator). Organizers are not limited."""
    if not settings.REGISTRATION_RATE_LIMIT or organizes(actor, event_id):
        return []
    people = {person.pk for person in (member, actor) if person is not None}
    return [f"registration-changes:{pk}" for pk in sorted(people)]


def _recent_changes(key: str, now: float) -> list[float]:
    return sorted(moment for moment in cache.get(key, []) if moment > now - settings.REGISTRATION_RATE_WINDOW)


def _check_rate(keys: list[str], now: float) -> None:
    """Refuse a change past REGISTRATION_RATE_LIMIT in REGISTRATION_RATE_WINDOW seconds.

    Every change writes emails with a calendar file to the member, so registering and
    cancelling in a loop would flood their mailbox (hole 9 of issue 8). The counters are the
    times of recent changes in the cache, a sliding window that every cache backend keeps the
    same way (the database cache resets a key's expiry on incr, which would stretch a fixed one).
    """
    limit = settings.REGISTRATION_RATE_LIMIT
    for key in keys:
        recent = _recent_changes(key, now)
        if len(recent) >= limit:
            # Free again when enough of the recent changes have left the window.
            free_at = recent[len(recent) - limit] + settings.REGISTRATION_RATE_WINDOW
            minutes = max(1, math.ceil((free_at - now) / 60))
            raise RegistrationError(
                ngettext(
                    "Too many registration changes in a short time. Please try again in %(minutes)d minute.",
                    "Too many registration changes in a short time. Please try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
                "rate_limited",
            )


def _count_change(keys: list[str], now: float) -> None:
    for key in keys:
        cache.set(key, [*_recent_changes(key, now), now], settings.REGISTRATION_RATE_WINDOW)


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
    rate_keys, now = _rate_keys(user, actor, occasion.event_id), time.time()
    _check_rate(rate_keys, now)  # before the lock: a refused flood never waits for it
    event = _lock(occasion.event_id)
    if event.status == Event.Status.CANCELLED:
        raise RegistrationError(_("This event is cancelled."), "cancelled")
    if not registration_is_open(event, at):
        if at < event.registration_opens_at:
            raise RegistrationError(_("Registration has not opened yet."), "not_open")
        raise RegistrationError(_("Registration is closed."), "closed")
    occasion = Occasion.objects.get(pk=occasion.pk)  # as it is now, under the lock
    if occasion.starts_at is None:
        raise RegistrationError(_("This occasion has no date yet."), "no_date")
    user.refresh_from_db()
    if not user.profile_complete:
        raise RegistrationError(_("Complete your profile before you register."), "profile")

    existing = Registration.objects.active().filter(user=user, event=event).first()
    if existing is not None:
        if existing.occasion_id == occasion.pk:
            return existing
        raise RegistrationError(
            _("You are already registered for another occasion of this event. Move that registration."),
            "already_registered",
        )

    seats = _Seats.count(event, at)
    reason = seats.reason_to_wait(occasion.pk, user, user.organization_id)
    registration = Registration.objects.create(
        user=user,
        event=event,
        occasion=occasion,
        organization_id=user.organization_id,
        status=Status.WAITLISTED if reason else Status.CONFIRMED,
        wait_reason=reason,
        created_at=at,
        queued_at=at,
        confirmed_at=None if reason else at,
        diet=diet,
        accessibility=accessibility,
        listed=listed,
    )
    _log(registration, Action.WAITLISTED if reason else Action.CONFIRMED, actor or user)
    _count_change(rate_keys, now)
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
    rate_keys, now = (
        (_rate_keys(registration.user, actor, registration.event_id) if limit_rate else []),
        time.time(),
    )
    _check_rate(rate_keys, now)
    event = _lock(registration.event_id)
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
    registration.save(update_fields=["status", "cancelled_at", "wait_reason"])
    _log(registration, Action.CANCELLED, actor)
    _count_change(rate_keys, now)
    return _promote(event, at, actor=None)


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
    rate_keys, now = _rate_keys(registration.user, actor, registration.event_id), time.time()
    _check_rate(rate_keys, now)
    event = _lock(registration.event_id)
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

    seats = _Seats.count(event, at)
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
    if reason:
        registration.queued_at = at
    elif not was_confirmed:
        registration.confirmed_at = at
    registration.save()
    _log(registration, Action.MOVED, actor, detail=f"{old_label} → {occasion.display_label}")
    _count_change(rate_keys, now)
    if was_confirmed:
        _promote(event, at, actor=None)
    return registration


@transaction.atomic
def promote_waitlist(event: Event, *, at: dt.datetime | None = None) -> list[Registration]:
    """Give freed seats to the waiting list, e.g. after capacity grew, a membership was verified
    or the organization seats were released. Safe to run any number of times."""
    return _promote(_lock(event.pk), at or timezone.now(), actor=None)


def _promote(event: Event, at: dt.datetime, actor: User | None) -> list[Registration]:
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
    seats = _Seats.count(event, at)
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
        chosen.save(update_fields=["status", "wait_reason", "confirmed_at"])
        _log(chosen, Action.PROMOTED, actor)
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
    event = _lock(registration.event_id)
    registration.refresh_from_db()
    if registration.status != Status.WAITLISTED:
        raise RegistrationError(_("Only a waiting registration can be confirmed over quota."), "not_waiting")
    seats = _Seats.count(event, at)
    if seats.by_occasion.get(registration.occasion_id, 0) >= seats.capacity[registration.occasion_id]:
        raise RegistrationError(_("The occasion is full; raise its seats first."), "full")
    registration.status = Status.CONFIRMED
    registration.wait_reason = Reason.NONE
    registration.confirmed_at = at
    registration.over_quota = True
    registration.save(update_fields=["status", "wait_reason", "confirmed_at", "over_quota"])
    _log(registration, Action.OVERRIDDEN, organizer)


@transaction.atomic
def record_attendance(registration: Registration, attended: bool, *, organizer: User) -> None:
    registration.attended = attended
    registration.save(update_fields=["attended"])
    _log(registration, Action.ATTENDANCE, organizer, detail="yes" if attended else "no", notify=False)


def promote_user_waitlists(user: User) -> None:
    """After a membership was verified: the member's waiting registrations may now fit."""
    event_ids = (
        Registration.objects.waitlisted().filter(user=user).values_list("event_id", flat=True).distinct()
    )
    for event in Event.objects.filter(pk__in=list(event_ids)):
        promote_waitlist(event)


# ---------------------------------------------------------------------------------------------
# Reading for pages


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next in line on the registration's occasion, in the event's waiting-list order
    (someone whose organization's seats are used may still be passed by others)."""
    if registration.status != Status.WAITLISTED:
        return None
    if registration.event.waitlist_policy == Event.WaitlistPolicy.FAIR:
        waiting = (
            Registration.objects.waitlisted()
            .filter(occasion_id=registration.occasion_id)
            .order_by("queued_at", "pk")
            .values_list("pk", "organization_id")
        )
        seated = set(
            Registration.objects.confirmed()
            .filter(event_id=registration.event_id)
            .values_list("organization_id", flat=True)
        )
        # The same order _promote uses: organizations without a seat first, then first come.
        queue = [pk for pk, organization in sorted(waiting, key=lambda row: row[1] in seated)]
        return queue.index(registration.pk) + 1
    ahead = (
        Registration.objects.waitlisted()
        .filter(occasion_id=registration.occasion_id)
        .filter(
            Q(queued_at__lt=registration.queued_at)
            | Q(queued_at=registration.queued_at, pk__lt=registration.pk)
        )
        .count()
    )
    return ahead + 1


def organization_seats_left(
    event: Event, organization_id: int | None, at: dt.datetime | None = None
) -> int | None:
    """Seats the organization may still take in the event, or None when no quota applies."""
    if organization_id is None or not event.quota_applies(at):
        return None
    used = Registration.objects.confirmed().filter(event=event, organization_id=organization_id).count()
    return max(event.organization_quota - used, 0)


@transaction.atomic
def refresh_schedule(event: Event) -> None:
    """Derive the occasions' and the event's start and end from the day parts, after an
    organizer changed them."""
    for occasion in event.occasions.prefetch_related("day_parts"):
        parts = list(occasion.day_parts.all())
        occasion.starts_at = min((p.starts_at for p in parts), default=None)
        occasion.ends_at = max((p.ends_at for p in parts), default=None)
        occasion.save(update_fields=["starts_at", "ends_at"])
    occasions = list(event.occasions.exclude(starts_at=None))
    event.starts_at = min((o.starts_at for o in occasions), default=None)
    event.ends_at = max((o.ends_at for o in occasions), default=None)
    event.save(update_fields=["starts_at", "ends_at"])


def occasions_with_a_seat_for(user: User, event: Event, *, exclude_id: int | None = None) -> list[Occasion]:
    """Other occasions of the event where the member would get a seat now (to offer them when
    the chosen one is full)."""
    if not user.is_authenticated:
        return []
    seats = _Seats.count(event, timezone.now())
    current = Registration.objects.confirmed().filter(user=user, event=event).first()
    if current is not None:
        seats.release(current.occasion_id, current.organization_id)
    return [
        occasion
        for occasion in event.occasions.all()
        if occasion.pk != exclude_id and not seats.reason_to_wait(occasion.pk, user, user.organization_id)
    ]


def colleagues_for(coordinator: User) -> list[User]:
    """Verified colleagues a coordinator may register (the coordinator included)."""
    if not (coordinator.is_organization_coordinator and coordinator.organization_verified):
        return []
    return [
        user
        for user in User.objects.filter(organization_id=coordinator.organization_id, is_active=True)
        .exclude(organization_verified_at=None)
        .order_by("full_name")
        if user.profile_complete
    ]


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


# ---------------------------------------------------------------------------------------------
# Event-wide changes and messages


def schedule_snapshot(event: Event) -> dict[int, dict]:
    """What participants rely on, per occasion: times, place and meeting link."""
    return {
        occasion.pk: {
            "time": tuple((part.starts_at, part.ends_at) for part in occasion.day_parts.order_by("number")),
            "place": (occasion.venue, occasion.address),
            "link": occasion.online_url,
        }
        for occasion in Occasion.objects.filter(event=event).prefetch_related("day_parts")
    }


@transaction.atomic
def announce_changes(event: Event, before: dict[int, dict], *, at: dt.datetime | None = None) -> int:
    """Tell the people registered for each occasion whose time, place or link changed since
    `before` (a schedule_snapshot). Returns the number of messages written."""
    at = at or timezone.now()
    if event.status != Event.Status.PUBLISHED:
        return 0
    after = schedule_snapshot(event)
    sent = 0
    for occasion_id, old in before.items():
        new = after.get(occasion_id)
        if new is None:
            continue
        changes = [aspect for aspect in ("time", "place", "link") if old[aspect] != new[aspect]]
        if changes:
            occasion = Occasion.objects.get(pk=occasion_id)
            if "time" in changes:
                # A new date gets its own reminders, even for people reminded of the old one.
                Registration.objects.filter(occasion=occasion).update(last_reminder_days=None)
            sent += notifications.occasion_changed(
                occasion, changes, key=f"changed:{occasion_id}:{at.timestamp()}"
            )
    return sent


@transaction.atomic
def cancel_event(event: Event, *, organizer: User) -> int:
    """Cancel the event and tell everyone registered; registrations stay as they are for the
    record. Returns the number of notices written."""
    event = _lock(event.pk)
    if event.status == Event.Status.CANCELLED:
        return 0
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status"])
    return notifications.event_cancelled(event)


@transaction.atomic
def message_participants(
    event: Event,
    *,
    subject: str,
    body: str,
    organizer: User,
    occasion: Occasion | None = None,
    include_waitlisted: bool = False,
    message_key: str = "",
) -> int:
    """An organizer's message to the participants of an event or one occasion. The same
    `message_key` twice (a double submit) writes each participant's copy once."""
    registrations = Registration.objects.filter(event=event).select_related("user", "event", "occasion")
    registrations = registrations.active() if include_waitlisted else registrations.confirmed()
    if occasion is not None:
        registrations = registrations.filter(occasion=occasion)
    return notifications.organizer_message(
        registrations,
        subject=subject,
        body=body,
        key=f"organizer-message:{event.pk}:{message_key or timezone.now().timestamp()}",
        sender_name=organizer.full_name or organizer.email,
    )


def send_due_reminders(at: dt.datetime | None = None) -> int:
    """Write the reminders that are due. Each is claimed by a conditional update of the
    registration before it is written, so overlapping runs of the job send it once."""
    sent = 0
    for registration, days in notifications.due_reminders(at):
        with transaction.atomic():
            claimed = (
                Registration.objects.filter(pk=registration.pk, status=Status.CONFIRMED)
                .filter(Q(last_reminder_days__isnull=True) | Q(last_reminder_days__gt=days))
                .update(last_reminder_days=days)
            )
            if claimed:
                notifications.reminder(registration, days)
                sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# Members' data rights: erasure and retention (registered with members.privacy in apps.py)


@transaction.atomic
def erase_member_registrations(user: User, at: dt.datetime | None = None) -> None:
    """Before an account is deleted: give up the member's places still to come, then keep every
    registration only as a count (organization, occasion, status and log stay, so seats, quotas
    and statistics stay right) without the person, their needs or their consent to be listed.

    Seats on occasions not yet started are cancelled through `cancel`, so the waiting list moves
    up; so are waiting places until the occasion ends. A waiting place of an occasion that is
    over is withdrawn without promoting anyone (nobody gets a seat for a past meeting). Seats of
    occasions under way or over stay confirmed: the person was there.
    """
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Value
    from django.db.models.functions import Concat

    from .models import CalendarFeed

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
        _log(registration, Action.CANCELLED, user, notify=False)

    registrations = Registration.objects.filter(user=user)
    # The admin history titles its entries with str(registration), which names the member.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Registration),
        object_id__in=[str(pk) for pk in registrations.values_list("pk", flat=True)],
    ).update(object_repr=Concat(Value("#"), "object_id"))
    registrations.update(user=None, diet="", accessibility="", listed=False)
    CalendarFeed.objects.filter(user=user).delete()


def needs_erasure_date(event: Event) -> dt.date | None:
    """The day the retention job erases the dietary and accessibility needs of the event's
    registrations (RETENTION_NEEDS_DAYS after it ends), or None while it has no dates."""
    from django.conf import settings

    if event.ends_at is None:
        return None
    return timezone.localdate(event.ends_at + dt.timedelta(days=settings.RETENTION_NEEDS_DAYS))


def erase_expired_needs(at: dt.datetime | None = None) -> int:
    """Erase dietary and accessibility needs (special-category data) of events that ended more
    than RETENTION_NEEDS_DAYS ago; a periodic job. Returns the number of registrations changed."""
    from django.conf import settings

    at = at or timezone.now()
    cutoff = at - dt.timedelta(days=settings.RETENTION_NEEDS_DAYS)
    return (
        Registration.objects.filter(event__ends_at__lt=cutoff)
        .exclude(diet="", accessibility="")
        .update(diet="", accessibility="")
    )
