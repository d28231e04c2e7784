"""The signed-in member's side of an event page: their own registration, their organization's
registrations (the colleagues who agreed to be listed, the seats taken, the counts on the date
buttons) and the date buttons themselves. Pages read them through events.selectors.

Every signed-in view of an event page reads this, so its one query is SQL written out: the ORM
compiled it in three times the time the database took to run it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from members.models import Organization, User

from .models import DayPart, Event, Occasion, Registration
from .seats import Seats

Status = Registration.Status


@dataclass(frozen=True)
class Colleague:
    """A colleague on the page's list: what it shows, and no more."""

    full_name: str
    occasion_label: str
    waitlisted: bool


@dataclass(frozen=True)
class MemberInEvent:
    """The member's own active registration (None without one), the colleagues who agreed to be
    listed, the organization's confirmed seats and seats left, and how many colleagues chose each
    occasion."""

    registration: Registration | None
    colleagues: list[Colleague]
    organization_taken: int
    organization_seats_left: int | None
    colleagues_by_occasion: dict[int, int]
    # The organization's name when it came with its registrations (None: not read here).
    organization_name: str | None = None


def _sql() -> str:
    registration, user, occasion, organization = (
        model._meta.db_table for model in (Registration, User, Occasion, Organization)
    )
    # Table names from the models, values as parameters. An organization of None matches no row.
    return f"""
    SELECT r.*, u.full_name AS member_full_name, org.name AS organization_name
    FROM {registration} r
    JOIN {occasion} o ON o.id = r.occasion_id
    LEFT JOIN {user} u ON u.id = r.user_id
    LEFT JOIN {organization} org ON org.id = r.organization_id
    WHERE r.event_id = %(event)s AND r.status IN (%(confirmed)s, %(waitlisted)s)
        AND (r.user_id = %(user)s OR r.organization_id = %(organization)s)
    ORDER BY o.starts_at, u.full_name, r.id"""  # noqa: S608


def member_in_event(user, event: Event) -> MemberInEvent:
    """One query for the member's own active registration and their organization's."""
    if not user.is_authenticated:
        return MemberInEvent(None, [], 0, None, {})
    params = {
        "event": event.pk,
        "user": user.pk,
        "organization": user.organization_id,
        "confirmed": Status.CONFIRMED.value,
        "waitlisted": Status.WAITLISTED.value,
    }
    rows = list(Registration.objects.raw(_sql(), params))
    occasions = _occasions_read_with(event)
    for row in rows:
        if row.occasion_id in occasions:
            row.occasion = occasions[row.occasion_id]
    registration = next((row for row in rows if row.user_id == user.pk), None)
    if registration is not None:
        registration.user = user
    organization = [
        row for row in rows if user.organization_id and row.organization_id == user.organization_id
    ]
    taken = sum(1 for row in organization if row.status == Status.CONFIRMED)
    # Names only for a verified member (claiming an organization must not reveal who works
    # there), and only of those who agreed to be listed; for the date buttons a count, never
    # names, also only for a verified member.
    colleagues = [row for row in organization if row.user_id != user.pk] if user.organization_verified else []
    by_occasion: dict[int, int] = {}
    for row in colleagues:
        by_occasion[row.occasion_id] = by_occasion.get(row.occasion_id, 0) + 1
    return MemberInEvent(
        registration=registration,
        colleagues=[
            Colleague(row.member_full_name, row.occasion.label, row.status == Status.WAITLISTED)
            for row in colleagues
            if row.listed
        ],
        organization_taken=taken,
        organization_seats_left=organization_seats_left(event, user.organization_id, used=taken),
        colleagues_by_occasion=by_occasion,
        organization_name=organization[0].organization_name if organization else None,
    )


def organization_seats_left(
    event: Event, organization_id: int | None, at: dt.datetime | None = None, *, used: int | None = None
) -> int | None:
    """Seats the organization may still take in the event, or None when no quota applies (none
    does once the event is cancelled: there are no seats to take). `used`: its confirmed seats,
    when the caller has counted them already."""
    if organization_id is None or event.is_cancelled or not event.quota_applies(at):
        return None
    if used is None:
        used = Registration.objects.confirmed().filter(event=event, organization_id=organization_id).count()
    return max(event.organization_quota - used, 0)


def _occasions_read_with(event: Event) -> dict[int, Occasion]:
    """The occasions event_for_page read with the event (with_seats(), day parts in order), by id;
    none when the event came without them."""
    if "occasions" not in getattr(event, "_prefetched_objects_cache", {}):
        return {}
    return {occasion.pk: occasion for occasion in event.occasions.all()}


@dataclass
class OccasionChoice:
    """One date button of the event page and its confirmation step: the occasion (with its
    seats), what registering for it gives the member now, and how many colleagues chose it."""

    occasion: Occasion  # with_seats(): seats_left
    wait_reason: str  # "" for a seat; Seats.on_registering, the rule the service decides with
    colleagues: int  # active registrations of the member's organization (0 unless verified)

    @property
    def has_date(self) -> bool:
        return self.occasion.starts_at is not None

    @property
    def awaits_verification(self) -> bool:
        return self.wait_reason == Registration.WaitReason.UNVERIFIED


def occasion_choices(
    user: User, event: Event, at: dt.datetime | None = None, *, member: MemberInEvent | None = None
) -> list[OccasionChoice]:
    """The event's occasions as the member may choose among them, in date order. From what the
    event page has read already (event_for_page's occasions, `member`) when it has."""
    member = member or member_in_event(user, event)
    occasions = sorted(_occasions_read_with(event).values() or _occasions_with_seats(event), key=_date_order)
    seats = Seats.of_page(
        event, at or timezone.now(), occasions, user.organization_id, member.organization_taken
    )
    return [
        OccasionChoice(
            occasion,
            seats.on_registering(occasion.pk, user) if occasion.starts_at else "",
            member.colleagues_by_occasion.get(occasion.pk, 0),
        )
        for occasion in occasions
    ]


def _occasions_with_seats(event: Event):
    return (
        Occasion.objects.with_seats()
        .filter(event=event)
        .prefetch_related(Prefetch("day_parts", queryset=DayPart.objects.order_by("number")))
    )


_NO_DATE = dt.datetime.min.replace(tzinfo=dt.UTC)


def _date_order(occasion: Occasion) -> tuple:
    # As order_by("starts_at", "pk") on PostgreSQL: occasions without a date last.
    return (occasion.starts_at is None, occasion.starts_at or _NO_DATE, occasion.pk)
