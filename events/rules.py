"""Small rules about an event that more than one module reads: the services (deciding), the
notifications (telling), the admin's forms (refusing) and the publication checklist (listing),
so that each rule is written once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DayPart, Event, Occasion


def cancellation_deadline(event: Event) -> dt.datetime | None:
    """Until when a member may cancel: the event's own deadline, or its start."""
    return event.cancellation_deadline or event.starts_at


# ---------------------------------------------------------------------------------------------
# Plausibility of the schedule and the programme: the admin's forms refuse what breaks these
# (events.admin_views) and the publication checklist lists it (events.checklist).

Window = tuple[dt.time, dt.time]


def _hh_mm(moment: dt.time | dt.datetime) -> str:
    return moment.strftime("%H:%M")


def day_part_windows(day_parts: Iterable[DayPart]) -> dict[int, list[Window]]:
    """The local times each day part number covers, on any occasion of the event."""
    windows: dict[int, list[Window]] = {}
    for part in sorted(day_parts, key=lambda part: (part.number, part.starts_at)):
        starts, ends = timezone.localtime(part.starts_at), timezone.localtime(part.ends_at)
        # A day part past midnight holds any time of day.
        same_day = starts.date() == ends.date()
        windows.setdefault(part.number, []).append(
            (starts.time(), ends.time()) if same_day else (dt.time.min, dt.time.max)
        )
    return windows


def agenda_item_problem(
    number: int, starts: dt.time, ends: dt.time, windows: dict[int, list[Window]]
) -> tuple[str, ValidationError] | None:
    """What is wrong with a programme item's day part and times, as (field, error), or None."""
    if number not in windows:
        return "day_part", ValidationError(
            _("There is no day part %(number)d. This event's day parts are: %(numbers)s.")
            % {"number": number, "numbers": ", ".join(str(n) for n in sorted(windows))},
            code="no_such_day_part",
        )
    if any(start <= starts and ends <= end for start, end in windows[number]):
        return None
    times = ", ".join(f"{_hh_mm(start)}–{_hh_mm(end)}" for start, end in windows[number])
    starts_inside = any(start <= starts <= end for start, end in windows[number])
    return "ends" if starts_inside else "starts", ValidationError(
        _("Outside day part %(number)d (%(times)s).") % {"number": number, "times": times},
        code="outside_day_part",
    )


def day_part_overlap(
    earlier: tuple[int, dt.datetime, dt.datetime], later_starts: dt.datetime
) -> ValidationError | None:
    """The error of a day part starting at `later_starts` before the `earlier` (number, starts,
    ends) one of the same occasion has ended, or None."""
    number, starts, ends = earlier
    if later_starts >= ends:
        return None
    return ValidationError(
        _("Overlaps day part %(number)d (%(starts)s–%(ends)s).")
        % {
            "number": number,
            "starts": _hh_mm(timezone.localtime(starts)),
            "ends": _hh_mm(timezone.localtime(ends)),
        },
        code="day_parts_overlap",
    )


def quota_above_seats(quota: int | None, seats: int | None) -> ValidationError | None:
    """The error of more seats per organization than all occasions have together, or None."""
    if not quota or seats is None or quota <= seats:
        return None
    return ValidationError(
        _(
            "%(quota)d seats per organization is more than the event has in all (%(seats)d seats "
            "on all occasions together)."
        )
        % {"quota": quota, "seats": seats},
        code="quota_above_seats",
    )


def attendance_opens(occasion: Occasion) -> dt.date | None:
    """The first day attendance may be recorded: the occasion's own day (people are ticked off
    at the door, before the start); None when it has no dates yet, so any day."""
    return timezone.localdate(occasion.starts_at) if occasion.starts_at else None


def attendance_open(occasion: Occasion, at: dt.datetime) -> bool:
    opens = attendance_opens(occasion)
    return opens is None or opens <= timezone.localdate(at)


# Participants may give or change their evaluation of an occasion until this many days after it.
EVALUATION_DAYS = 14


def evaluation_closes(occasion: Occasion) -> dt.datetime | None:
    return occasion.ends_at + dt.timedelta(days=EVALUATION_DAYS) if occasion.ends_at else None


def evaluation_open(occasion: Occasion, at: dt.datetime) -> bool:
    """From the occasion's day (an evaluation is often given at its end) until EVALUATION_DAYS
    after it; never for an occasion without dates."""
    closes = evaluation_closes(occasion)
    return closes is not None and attendance_open(occasion, at) and at < closes
