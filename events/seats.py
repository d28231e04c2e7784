"""The seat rule: who may have a seat on an occasion now, from the counts of one event.

Services decide under the event's lock with these counts; pages read them (selectors) to offer
other occasions. Neither imports the other through here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count

from members.models import User

from .models import Event, Occasion, Registration

Reason = Registration.WaitReason


def _confirmed_by(event: Event, column: str) -> dict[int, int]:
    rows = (
        Registration.objects.confirmed().filter(event=event).values(column).annotate(n=Count("id")).order_by()
    )
    return {row[column]: row["n"] for row in rows}


@dataclass
class Seats:
    """Counts of one event, taken (under its lock, when deciding) and kept up to date while
    deciding."""

    event: Event
    at: dt.datetime
    capacity: dict[int, int]
    by_occasion: dict[int, int]
    by_organization: dict[int, int]

    @classmethod
    def count(cls, event: Event, at: dt.datetime) -> Seats:
        capacity = dict(Occasion.objects.filter(event=event).values_list("pk", "capacity"))
        return cls(
            event, at, capacity, _confirmed_by(event, "occasion_id"), _confirmed_by(event, "organization_id")
        )

    @classmethod
    def of_page(
        cls, event: Event, at: dt.datetime, occasions, organization_id: int | None, organization_taken: int
    ) -> Seats:
        """The counts an event page has read already: its occasions with_seats() and the
        member's organization's confirmed seats (selectors.member_in_event)."""
        return cls(
            event,
            at,
            {occasion.pk: occasion.capacity for occasion in occasions},
            {occasion.pk: occasion.confirmed_count for occasion in occasions},
            {organization_id: organization_taken},
        )

    @classmethod
    def of_one(
        cls,
        event: Event,
        at: dt.datetime,
        *,
        occasion_id: int,
        capacity: int,
        taken: int,
        organization_id: int | None,
        organization_taken: int,
    ) -> Seats:
        """The counts one new registration is decided on: its occasion's and its organization's,
        counted by the caller (the register service reads them in one query under the lock)."""
        return cls(
            event, at, {occasion_id: capacity}, {occasion_id: taken}, {organization_id: organization_taken}
        )

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

    def on_registering(self, occasion_id: int, user: User) -> str:
        """What a new registration of `user` for the occasion gets now: "" for a seat, otherwise
        the reason to wait. The register service decides with it under the event's lock, and the
        event page's date buttons and the confirmation step predict with it, so what a member is
        told before confirming is what the service then does (unless someone is quicker)."""
        return self.reason_to_wait(occasion_id, user, user.organization_id)

    def take(self, occasion_id: int, organization_id: int) -> None:
        self.by_occasion[occasion_id] = self.by_occasion.get(occasion_id, 0) + 1
        self.by_organization[organization_id] = self.by_organization.get(organization_id, 0) + 1

    def release(self, occasion_id: int, organization_id: int) -> None:
        self.by_occasion[occasion_id] -= 1
        self.by_organization[organization_id] -= 1
