"""Changes of an event as a whole: publishing it, changing its schedule, copying it, cancelling
it, and the messages its participants get (schedule changes, an organizer's message,
reminders). Each decides under the event's lock where seats are concerned, as registrations do.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, PositiveSmallIntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User

from .. import checklist, notifications, reminders, selectors
from ..errors import EventError
from ..models import DayPart, Event, Occasion, Registration
from .registrations import calendar_changed, lock_event, promote_locked, promote_waitlist


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


@transaction.atomic
def publish_event(event: Event, *, organizer: User, at: dt.datetime | None = None) -> bool:
    """Publish a draft: it appears on the site and its registration window applies. Returns
    whether it changed (publishing a published event does nothing).

    A cancelled event stays cancelled: its participants were told it will not take place, and
    publishing would put them back on it without a word. Copy it to plan it again.

    An event with a blocking item on its publication checklist (events.checklist: no date, no
    seats, a registration window that cannot work …) is refused with the items' messages.
    """
    event = lock_event(event.pk)
    if event.status == Event.Status.PUBLISHED:
        return False
    if event.status == Event.Status.CANCELLED:
        raise EventError(
            _("%(event)s is cancelled; copy it to plan it again.") % {"event": event.title}, "cancelled"
        )
    blocking = checklist.publication_checklist(event, at=at).blocking
    if blocking:
        raise EventError(
            _("%(event)s cannot be published yet: %(problems)s")
            % {"event": event.title, "problems": " ".join(item.message for item in blocking)},
            "not_ready",
        )
    event.status = Event.Status.PUBLISHED
    # The first publication is the news date (feeds); taking a draft back and forth keeps it.
    event.published_at = event.published_at or at or timezone.now()
    event.save(update_fields=["status", "published_at"])
    # Seats freed while the event was not published were given to no one.
    promote_locked(event, at or timezone.now())
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


@dataclass(frozen=True)
class DayPartTimes:
    """A day part as planned, saved or not yet (the event page's rows as posted)."""

    number: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def shifted_day_parts(day_parts: Iterable[DayPartTimes], days: int) -> list[DayPartTimes]:
    """The same day parts `days` later by the local clock, as the next occasion of a workshop
    that runs "lunch to lunch" each week."""
    shift = dt.timedelta(days=days)
    return [
        DayPartTimes(part.number, _later(part.starts_at, shift), _later(part.ends_at, shift))
        for part in day_parts
    ]


@transaction.atomic
def copy_day_parts(occasion: Occasion, day_parts: Iterable[DayPartTimes], *, days: int) -> list[DayPart]:
    """Give an occasion without day parts copies of `day_parts` (another occasion's), `days`
    later. The caller changes the schedule through change_schedule, which tells participants."""
    if occasion.day_parts.exists():
        raise EventError(
            _("This occasion has day parts already; copy only onto an empty one."), "has_day_parts"
        )
    return DayPart.objects.bulk_create(
        DayPart(occasion=occasion, number=part.number, starts_at=part.starts_at, ends_at=part.ends_at)
        for part in shifted_day_parts(day_parts, days)
    )


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
            calendar_changed(Registration.objects.active().filter(occasion=occasion))
            if "time" in changes:
                # A new date gets its own reminders, even for people reminded of the old one.
                Registration.objects.filter(occasion=occasion).update(last_reminder_days=None)
            sent += notifications.occasion_changed(
                occasion, changes, key=f"changed:{occasion_id}:{at.timestamp()}"
            )
    return sent


@transaction.atomic
def cancel_event(event: Event, *, organizer: User, note: str = "") -> int:
    """Cancel the event and tell everyone registered, with the organizer's `note` in the email;
    registrations stay as they are for the record. Returns the number of notices written: one
    INSERT for all of them, rendered by the worker, so the lock is held for a fixed number of
    queries whatever the number of people."""
    event = lock_event(event.pk)
    if event.status == Event.Status.CANCELLED:
        return 0
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status"])
    calendar_changed(Registration.objects.active().filter(event=event))
    return notifications.event_cancelled(event, note=note.strip())


@transaction.atomic
def message_participants(
    event: Event,
    *,
    subject: str,
    body: str,
    organizer: User,
    occasion: Occasion | None = None,
    recipients: str = selectors.MessageRecipients.CONFIRMED,
    message_key: str = "",
) -> int:
    """An organizer's message to the participants of an event or one occasion: the confirmed,
    the waiting list or both (`recipients`, a selectors.MessageRecipients). The same
    `message_key` twice (a double submit) writes each participant's copy once. A fixed number
    of queries however many participants (the worker renders each copy)."""
    return notifications.organizer_message(
        selectors.message_recipients(event, recipients=recipients, occasion=occasion),
        subject=subject,
        body=body,
        key=f"organizer-message:{event.pk}:{message_key or timezone.now().timestamp()}",
        sender_name=notifications.sender_name(organizer),
    )


def send_due_reminders(at: dt.datetime | None = None) -> int:
    """Write the reminders that are due, a batch of registrations at a time. Each batch is read,
    claimed (Registration.last_reminder_days) and written in one transaction with the same few
    queries however many are due, so the job's cost follows the reminders due, not the
    registrations in the database, and overlapping runs of the job send each reminder once.
    Returns the number of reminders written."""
    windows = reminders.open_windows(at or timezone.now())
    sent = 0
    for group in reminders.in_groups(windows):
        while True:
            with transaction.atomic():
                batch = reminders.due_batch(group)
                if batch and not _claim(group, batch):
                    # An overlapping run claimed some of them between the read and the claim
                    # (no row locks, as on SQLite): read the batch again without them.
                    transaction.set_rollback(True)
                    continue
                sent += notifications.reminders(batch)
            if len(batch) < reminders.BATCH:
                break
    return sent


def _claim(windows: list[reminders.Window], batch: list[reminders.Due]) -> bool:
    """Mark the batch's reminders sent, in one UPDATE that re-applies the condition they were
    read by. Whether every one of them was claimed here: the update changes only rows of the
    batch, each at most once, so a count short of the batch means another run had some."""
    occasions = {due.occasion_id for due in batch}
    pks_by_days: dict[int, list[int]] = {}
    for due in batch:
        pks_by_days.setdefault(due.days, []).append(due.registration_id)
    claimed = (
        reminders.due_in([window for window in windows if window.occasion_id in occasions])
        .filter(pk__in=[due.registration_id for due in batch])
        .update(
            last_reminder_days=Case(
                *(When(pk__in=pks, then=Value(days)) for days, pks in pks_by_days.items()),
                output_field=PositiveSmallIntegerField(),
            )
        )
    )
    return claimed == len(batch)
