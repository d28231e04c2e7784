"""Attendance: who came to an occasion, as its organizers record it from the list at the door,
the on-screen list or the online meeting tool's participant list (events.attendance_import).

Only confirmed participants have attendance, and only from the occasion's day on: what the
Network page counts as attended and as no-shows is never a guess about the future."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from members.models import User

from ..errors import RegistrationError
from ..models import Occasion, Registration, RegistrationLog
from ..permissions import organizes
from ..rules import attendance_open, attendance_opens


@dataclass(frozen=True)
class Recorded:
    changed: int
    # Registrations on the list that are no longer confirmed (cancelled or moved since the
    # list was shown): left as they are.
    left: int


def _check(occasion: Occasion, organizer: User, at: dt.datetime) -> None:
    if not organizes(organizer, occasion.event_id):
        raise RegistrationError(_("Only organizers may record attendance."), "forbidden")
    if not attendance_open(occasion, at):
        raise RegistrationError(
            _("Attendance can be recorded from the day of the occasion, %(day)s.")
            % {"day": date_format(attendance_opens(occasion), "DATE_FORMAT")},
            "not_begun",
        )


@transaction.atomic
def record(
    occasion: Occasion, marks: Mapping[int, bool], *, organizer: User, at: dt.datetime | None = None
) -> Recorded:
    """Record attended (True) or not (False) for the registrations in `marks` (by id), all of one
    occasion, in one transaction; each change is logged with the organizer's name."""
    at = at or timezone.now()
    _check(occasion, organizer, at)
    registrations = list(
        occasion.registrations.confirmed().filter(pk__in=list(marks)).select_for_update().order_by("pk")
    )
    changed = [
        registration for registration in registrations if registration.attended != marks[registration.pk]
    ]
    for registration in changed:
        registration.attended = marks[registration.pk]
    Registration.objects.bulk_update(changed, ["attended"])
    # The log is written directly: attendance tells the member nothing (no email).
    RegistrationLog.objects.bulk_create(
        RegistrationLog(
            registration=registration,
            action=RegistrationLog.Action.ATTENDANCE,
            actor=organizer,
            detail="yes" if registration.attended else "no",
        )
        for registration in changed
    )
    return Recorded(changed=len(changed), left=len(marks) - len(registrations))


def record_one(
    registration: Registration, attended: bool, *, organizer: User, at: dt.datetime | None = None
) -> bool:
    """One registration's attendance (the registrations admin's actions); True when it changed."""
    recorded = record(registration.occasion, {registration.pk: attended}, organizer=organizer, at=at)
    if recorded.left:
        raise RegistrationError(
            _("Only a confirmed participant's attendance can be recorded."), "not_confirmed"
        )
    return bool(recorded.changed)
