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
import itertools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.errors import RuleError
from members.models import User

from . import notifications, selectors
from .models import DayPart, Event, Occasion, Registration, RegistrationLog
from .rules import cancellation_deadline  # noqa: F401 (also read from here by views)
from .seats import Seats

Status = Registration.Status
Reason = Registration.WaitReason
Action = RegistrationLog.Action


class RegistrationError(RuleError):
    """A rule refused a registration change; the message is translated and meant for the member."""


class EventError(RuleError):
    """A rule refused a change of the event itself (publishing, copying)."""


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


def _lock(event_id: int) -> Event:
    return Event.objects.select_for_update().get(pk=event_id)


def _log(registration: Registration, action: str, actor: User | None, detail: str = "", notify: bool = True):
    log = RegistrationLog.objects.create(registration=registration, action=action, actor=actor, detail=detail)
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

    seats = Seats.count(event, at)
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
    seats = Seats.count(event, at)
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
# The schedule and the waiting lists of every event (reads for pages are in events.selectors)


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


@transaction.atomic
def publish_event(event: Event, *, organizer: User, at: dt.datetime | None = None) -> bool:
    """Publish a draft: it appears on the site and its registration window applies. Returns
    whether it changed (publishing a published event does nothing).

    A cancelled event stays cancelled: its participants were told it will not take place, and
    publishing would put them back on it without a word. Copy it to plan it again.
    """
    event = _lock(event.pk)
    if event.status == Event.Status.PUBLISHED:
        return False
    if event.status == Event.Status.CANCELLED:
        raise EventError(
            _("%(event)s is cancelled; copy it to plan it again.") % {"event": event.title}, "cancelled"
        )
    event.status = Event.Status.PUBLISHED
    # The first publication is the news date (feeds); taking a draft back and forth keeps it.
    event.published_at = event.published_at or at or timezone.now()
    event.save(update_fields=["status", "published_at"])
    # Seats freed while the event was not published were given to no one.
    _promote(event, at or timezone.now(), actor=None)
    return True


@dataclass(frozen=True)
class ScheduleChange:
    promoted: int  # registrations given a seat because the occasions changed
    notified: int  # messages written to people whose time, place or link changed


@transaction.atomic
def change_schedule(event: Event, save: Callable[[], object]) -> ScheduleChange:
    """An organizer's edit of the occasions or day parts of `event`, saved by `save`.

    What participants were told is read before `save` runs and compared after it: day parts
    decide the dates shown and listed, more seats may let people off the waiting list, and the
    people registered hear of a new time, place or meeting link.
    """
    before = selectors.schedule_snapshot(event) if event.pk else {}
    save()
    refresh_schedule(event)
    promoted = promote_waitlist(event)
    return ScheduleChange(promoted=len(promoted), notified=announce_changes(event, before))


_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def _unique_slug(base: str) -> str:
    base = base[:185].strip("-")
    taken = set(Event.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    candidates = itertools.chain([base], (f"{base}-{number}" for number in itertools.count(2)))
    return next(slug for slug in candidates if slug not in taken)


def _later(moment: dt.datetime, shift: dt.timedelta) -> dt.datetime:
    # By the local clock: a meeting at 13:00 stays at 13:00 across a change to or from summer time.
    return timezone.localtime(moment) + shift


@transaction.atomic
def copy_event(event: Event, *, shift: dt.timedelta, organizer: User) -> Event:
    """A draft of the next meeting for the same team: the programme, themes, contacts and
    occasions with their day parts, every date moved by `shift`. Registrations and documents
    stay with the original. Only an organizer who sees the event may copy it."""
    if not Event.objects.visible_to(organizer).filter(pk=event.pk).exists():
        raise EventError(_("You may not copy this event."), "forbidden")
    occasions = list(event.occasions.prefetch_related("day_parts"))
    agenda = list(event.agenda_items.prefetch_related("speakers"))
    themes, contacts = list(event.themes.all()), list(event.contacts.all())

    copy = Event.objects.get(pk=event.pk)  # every field, the team included
    copy.pk = None
    copy._state.adding = True
    copy.title = (_("%(title)s (copy)") % {"title": event.title})[:200]
    next_day = _later(event.starts_at, shift).date() if event.starts_at else None
    base = _DATE_SUFFIX.sub("", event.slug)
    copy.slug = _unique_slug(f"{base}-{next_day:%Y-%m-%d}" if next_day else f"{base}-copy")
    copy.status = Event.Status.DRAFT
    copy.published_at = None
    copy.starts_at = copy.ends_at = None
    shifted = ["registration_opens_at", "registration_closes_at", "cancellation_deadline", "quota_release_at"]
    for name in shifted:
        if getattr(copy, name) is not None:
            setattr(copy, name, _later(getattr(copy, name), shift))
    copy.save()
    copy.themes.set(themes)
    copy.contacts.set(contacts)

    for occasion in occasions:
        day_parts = list(occasion.day_parts.all())
        occasion.pk = None
        occasion._state.adding = True
        occasion.event = copy
        occasion.save()
        DayPart.objects.bulk_create(
            DayPart(
                occasion=occasion,
                number=part.number,
                starts_at=_later(part.starts_at, shift),
                ends_at=_later(part.ends_at, shift),
            )
            for part in day_parts
        )
    for item in agenda:
        speakers = list(item.speakers.all())
        item.pk = None
        item._state.adding = True
        # The prefetched speakers would make set() below believe they are linked already.
        item._prefetched_objects_cache = {}
        item.event = copy
        item.save()
        item.speakers.set(speakers)
    refresh_schedule(copy)
    return copy


@transaction.atomic
def announce_changes(event: Event, before: dict[int, dict], *, at: dt.datetime | None = None) -> int:
    """Tell the people registered for each occasion whose time, place or link changed since
    `before` (a selectors.schedule_snapshot). Returns the number of messages written."""
    at = at or timezone.now()
    if event.status != Event.Status.PUBLISHED:
        return 0
    after = selectors.schedule_snapshot(event)
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
    record. Returns the number of notices written: one INSERT for all of them, rendered by the
    worker, so the lock is held for a fixed number of queries whatever the number of people."""
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
    `message_key` twice (a double submit) writes each participant's copy once. A fixed number
    of queries however many participants (the worker renders each copy)."""
    registrations = Registration.objects.filter(event=event)
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
