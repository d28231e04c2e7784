"""What an event's dashboard reads beyond its seats (selectors.event_seats): the waiting lists
with the reason each person waits, registrations and cancellations per day, and the emails
about the event. Read-only; each list is a fixed number of queries however many occasions,
organizations and registrations the event has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mail import selectors as outbox
from mail.models import OutgoingMessage, kind_label

from .models import Event, Occasion, Registration, RegistrationLog
from .seats import Seats

Reason = Registration.WaitReason
MessageStatus = OutgoingMessage.Status

# ---------------------------------------------------------------------------------------------
# Waiting lists


@dataclass
class Waiting:
    registration: Registration
    position: int
    reason: str  # in words
    # True when no reason was stored and it is read from the seats as they are now.
    derived: bool = False


@dataclass
class WaitingList:
    occasion: Occasion
    people: list[Waiting] = field(default_factory=list)


def waiting_lists(event: Event, *, at: dt.datetime | None = None) -> list[WaitingList]:
    """The people waiting on each occasion, in the order they would get a seat, with why they wait.

    The reason is the one stored on the registration (Registration.wait_reason): the
    registration service records it when it puts someone on the list, and promote_waitlist
    keeps it true for those still waiting when seats or quotas change. Only a registration
    without a stored reason (put on the list before reasons were recorded) has it derived here
    from the seats as they are now, with the seat rule itself (events.seats.Seats), and is
    marked so.

    The order is selectors.waitlist_position's: first come, and with the fair policy the
    organizations without a confirmed seat first."""
    waiting = list(
        Registration.objects.waitlisted()
        .filter(event=event)
        .select_related("user", "organization", "occasion")
        .order_by("occasion__starts_at", "occasion_id", "queued_at", "pk")
    )
    if event.waitlist_policy == Event.WaitlistPolicy.FAIR and waiting:
        seated = set(
            Registration.objects.confirmed().filter(event=event).values_list("organization_id", flat=True)
        )
        occasions = {
            occasion_id: index
            for index, occasion_id in enumerate(dict.fromkeys(r.occasion_id for r in waiting))
        }
        # A stable sort keeps first come within each group.
        waiting.sort(key=lambda r: (occasions[r.occasion_id], r.organization_id in seated))
    seats = None
    if any(not registration.wait_reason for registration in waiting):
        seats = Seats.count(event, at or timezone.now())

    lists: dict[int, WaitingList] = {}
    for registration in waiting:
        entries = lists.setdefault(registration.occasion_id, WaitingList(registration.occasion)).people
        entries.append(Waiting(registration, len(entries) + 1, *_reason(registration, seats)))
    return list(lists.values())


def _reason(registration: Registration, seats: Seats | None) -> tuple[str, bool]:
    """The reason in words, and whether it was derived from the seats now."""
    if registration.wait_reason:
        return str(registration.get_wait_reason_display()), False
    if seats is None or registration.user is None:
        # An erased account: who it was, and so its verification, is gone.
        return str(_("Not recorded")), False
    reason = seats.reason_to_wait(registration.occasion_id, registration.user, registration.organization_id)
    return (str(Reason(reason).label) if reason else str(_("None now: a seat is free for them"))), True


# ---------------------------------------------------------------------------------------------
# Registrations over time


@dataclass
class Day:
    day: dt.date
    new: int = 0
    cancelled: int = 0


def registrations_per_day(event: Event) -> list[Day]:
    """New registrations and cancellations per local day, every day from the first registration
    to the last change (days without any in between too, so that a chart shows time evenly).
    One query; the days are counted here rather than in SQL so that they are the organizer's
    local days on every database."""
    counts: dict[dt.date, Day] = {}
    rows = Registration.objects.filter(event=event).order_by().values_list("created_at", "cancelled_at")
    for created_at, cancelled_at in rows:
        day = timezone.localdate(created_at)
        counts.setdefault(day, Day(day)).new += 1
        if cancelled_at is not None:
            day = timezone.localdate(cancelled_at)
            counts.setdefault(day, Day(day)).cancelled += 1
    if not counts:
        return []
    first, last = min(counts), max(counts)
    return [
        counts.get(first + dt.timedelta(days=n), Day(first + dt.timedelta(days=n)))
        for n in range((last - first).days + 1)
    ]


# ---------------------------------------------------------------------------------------------
# Emails


@dataclass
class EmailCount:
    kind: str
    label: str
    sent: int = 0
    pending: int = 0  # waiting in the outbox or being sent
    failed: int = 0
    withdrawn: int = 0  # no longer true when their turn came, or replaced by a later notice

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed + self.withdrawn


# The columns the statuses are counted in.
_COLUMN = {
    MessageStatus.SENT: "sent",
    MessageStatus.PENDING: "pending",
    MessageStatus.SENDING: "pending",
    MessageStatus.FAILED: "failed",
    MessageStatus.WITHDRAWN: "withdrawn",
}
# The order a registration goes through, then the messages to everyone.
_KIND_ORDER = [
    "registration_confirmed",
    "registration_waitlisted",
    "registration_promoted",
    "registration_cancelled",
    "reminder",
    "follow_up",
    "event_changed",
    "organizer_message",
    "event_cancelled",
]


def email_counts(event: Event) -> list[EmailCount]:
    """The emails about the event per kind, counted by status (two queries).

    Found by the idempotency keys events.notifications and events.services.lifecycle write
    (the keys outlive the retention that empties a message's `about`):
    "registration-log:<log>" for a registration's notices, "reminder:<registration>:…",
    "follow-up:<registration>:",
    "changed:<occasion>:…", "organizer-message:<event>:…" and "event-cancelled:<event>:…"."""
    registrations = list(Registration.objects.filter(event=event).order_by().values_list("pk", "occasion_id"))
    log_keys = (
        RegistrationLog.objects.filter(registration__event=event)
        .annotate(key=Concat(Value("registration-log:"), Cast("pk", CharField()), output_field=CharField()))
        .values("key")
    )
    prefixes = [
        f"event-cancelled:{event.pk}:",
        f"organizer-message:{event.pk}:",
        *(f"changed:{occasion_id}:" for occasion_id in sorted({occasion for _pk, occasion in registrations})),
        *(f"reminder:{pk}:" for pk, _occasion in registrations),
        *(f"follow-up:{pk}:" for pk, _occasion in registrations),
    ]
    counts: dict[str, EmailCount] = {}
    for row in outbox.counts_by_kind_and_status(keys=log_keys, key_prefixes=prefixes):
        count = counts.setdefault(row["kind"], EmailCount(row["kind"], kind_label(row["kind"])))
        column = _COLUMN.get(row["status"], "pending")
        setattr(count, column, getattr(count, column) + row["count"])
    known = {kind: index for index, kind in enumerate(_KIND_ORDER)}
    return sorted(counts.values(), key=lambda count: (known.get(count.kind, len(known)), count.label))
