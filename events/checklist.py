"""The publication checklist: what is missing or odd about an event before it goes public.

Read-only; the publish page shows it and events.services.lifecycle.publish_event refuses an
event with a blocking item. Each item has a severity:

BLOCKING ("must fix"): what cannot work, and what the event's own forms refuse (the same rule,
written once in the models' clean() or events.rules, and reached here because a later change
elsewhere, e.g. moving the day parts on an occasion's page, left the event in that state):
- no occasion, or an occasion without a day part (no date), or one without seats;
- day parts numbered below 1, or overlapping on one occasion;
- registration closing before it opens, or after the event has ended; registration already
  closed while the event is still ahead (nobody could register);
- a cancellation deadline after the event has ended;
- seats per organization of 0, above all seats of the event, or released before registration
  opens;
- a programme item in a day part that does not exist, or outside its day part's times.

WARNING ("worth a look"): odd but allowed, the organizer may publish anyway:
- no contact person (replies to the emails reach nobody in particular);
- registration closing after the event has started (normal with several occasions);
- a cancellation deadline before registration opens (participants could never cancel);
- no programme yet;
- an in-person or hybrid occasion without venue or address, an online or hybrid one without a
  meeting link (it may follow; participants are told when it is added);
- the event is over (it is published for the record).

The main theme and the summary are required by the model, so they are never missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import rules
from .models import AgendaItem, DayPart, Event, Occasion

BLOCKING = "blocking"
WARNING = "warning"

# What the checklist looks at, in the order the publish page shows it; a topic without items is
# listed under "all good".
TOPICS: dict[str, Promise] = {
    "dates": gettext_lazy("Occasions and dates"),
    "seats": gettext_lazy("Seats"),
    "registration": gettext_lazy("Registration window"),
    "cancellation": gettext_lazy("Cancellation deadline"),
    "contact": gettext_lazy("Contact person"),
    "place": gettext_lazy("Place and meeting link"),
    "programme": gettext_lazy("Programme"),
}

# Where the organizer fixes an item: the event form's field, or a group of rows on its page.
OCCASIONS = "occasions"
PROGRAMME = "agenda_items"

# The topic of each of Event.clean's fields.
_EVENT_FIELD_TOPICS = {
    "registration_opens_at": "registration",
    "registration_closes_at": "registration",
    "quota_release_at": "seats",
    "organization_quota": "seats",
    "cancellation_deadline": "cancellation",
}


@dataclass(frozen=True)
class ChecklistItem:
    topic: str  # a key of TOPICS
    code: str
    severity: str  # BLOCKING or WARNING
    message: str
    field: str = ""  # the event form's field, OCCASIONS or PROGRAMME


@dataclass(frozen=True)
class Checklist:
    items: tuple[ChecklistItem, ...] = field(default_factory=tuple)

    @property
    def blocking(self) -> list[ChecklistItem]:
        return [item for item in self.items if item.severity == BLOCKING]

    @property
    def warnings(self) -> list[ChecklistItem]:
        return [item for item in self.items if item.severity == WARNING]

    @property
    def passed(self) -> list[str]:
        """The labels of the topics with nothing to say."""
        topics = {item.topic for item in self.items}
        return [str(label) for key, label in TOPICS.items() if key not in topics]

    def __bool__(self) -> bool:
        return bool(self.items)


def _local(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _clean_errors(instance: models.Model) -> list[tuple[str, str, str]]:
    """(field, code, message) of each error the model's own clean() finds."""
    try:
        instance.clean()
    except ValidationError as error:
        errors = error.error_dict if hasattr(error, "error_dict") else {"": error.error_list}
        return [
            (name, each.code or "", message)
            for name, listed in errors.items()
            for each in listed
            for message in each.messages
        ]
    return []


def _of_occasion(name: str, problem: str) -> str:
    return _("%(occasion)s: %(problem)s") % {"occasion": name, "problem": problem}


def publication_checklist(event: Event, *, at: dt.datetime | None = None) -> Checklist:
    """Everything missing or odd about `event` as saved, blocking items first."""
    at = at or timezone.now()
    occasions = list(Occasion.objects.filter(event=event).order_by("starts_at", "pk"))
    day_parts = list(DayPart.objects.filter(occasion__event=event).order_by("occasion_id", "number"))
    programme = list(AgendaItem.objects.filter(event=event).order_by("day_part", "starts", "pk"))
    items = [
        *_occasions(event, occasions, day_parts),
        *_event_fields(event),
        *_registration(event, occasions, at),
        *_contact(event),
        *_programme(programme, day_parts),
    ]
    items.sort(key=lambda item: item.severity != BLOCKING)
    return Checklist(tuple(items))


def _occasions(event: Event, occasions: list[Occasion], day_parts: list[DayPart]) -> list[ChecklistItem]:
    if not occasions:
        return [
            ChecklistItem(
                "dates",
                "no_occasion",
                BLOCKING,
                _(
                    "The event has no occasion yet: add one with its date and seats, so that "
                    "people can register."
                ),
                OCCASIONS,
            )
        ]
    items = []
    parts_of: dict[int, list[DayPart]] = {}
    for part in day_parts:
        parts_of.setdefault(part.occasion_id, []).append(part)
    for occasion in occasions:
        name = occasion.display_label
        parts = parts_of.get(occasion.pk, [])
        if not parts:
            items.append(
                ChecklistItem(
                    "dates",
                    "no_date",
                    BLOCKING,
                    _("%(occasion)s has no date yet: give it at least one day part.") % {"occasion": name},
                    OCCASIONS,
                )
            )
        for _field, code, message in _clean_errors(occasion):
            items.append(ChecklistItem("seats", code, BLOCKING, _of_occasion(name, message), OCCASIONS))
        for part in parts:
            for _field, code, message in _clean_errors(part):
                items.append(ChecklistItem("dates", code, BLOCKING, _of_occasion(name, message), OCCASIONS))
        by_start = sorted(parts, key=lambda part: part.starts_at)
        for earlier, later in zip(by_start, by_start[1:], strict=False):
            error = rules.day_part_overlap(
                (earlier.number, earlier.starts_at, earlier.ends_at), later.starts_at
            )
            if error is not None:
                message = _("%(occasion)s, day part %(number)d: %(problem)s") % {
                    "occasion": name,
                    "number": later.number,
                    "problem": error.message,
                }
                items.append(ChecklistItem("dates", error.code, BLOCKING, message, OCCASIONS))
        if event.format in (Event.Format.IN_PERSON, Event.Format.HYBRID) and not (
            occasion.venue or occasion.address
        ):
            items.append(
                ChecklistItem(
                    "place",
                    "no_place",
                    WARNING,
                    _("%(occasion)s has no venue or address: participants do not know where to go.")
                    % {"occasion": name},
                    OCCASIONS,
                )
            )
        if event.format in (Event.Format.ONLINE, Event.Format.HYBRID) and not occasion.online_url:
            items.append(
                ChecklistItem(
                    "place",
                    "no_meeting_link",
                    WARNING,
                    _(
                        "%(occasion)s has no meeting link yet. You may add it later; the people "
                        "registered are told when it is added."
                    )
                    % {"occasion": name},
                    OCCASIONS,
                )
            )
    error = rules.quota_above_seats(event.organization_quota, sum(o.capacity for o in occasions))
    if error is not None:
        items.append(ChecklistItem("seats", error.code, BLOCKING, error.message, "organization_quota"))
    return items


def _event_fields(event: Event) -> list[ChecklistItem]:
    """The rules of Event.clean, as the event form would refuse them today."""
    return [
        ChecklistItem(_EVENT_FIELD_TOPICS.get(name, "registration"), code, BLOCKING, message, name)
        for name, code, message in _clean_errors(event)
    ]


def _registration(event: Event, occasions: list[Occasion], at: dt.datetime) -> list[ChecklistItem]:
    items = []
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if event.ends_at and event.ends_at < at:
        items.append(
            ChecklistItem(
                "dates",
                "event_over",
                WARNING,
                _("The event ended on %(end)s: it is published for the record, and nobody can register.")
                % {"end": _local(event.ends_at)},
            )
        )
    elif closes and closes <= at:
        items.append(
            ChecklistItem(
                "registration",
                "registration_closed",
                BLOCKING,
                _(
                    "Registration closed on %(closes)s, so nobody could register. Move the closing "
                    "date if people should still sign up."
                )
                % {"closes": _local(closes)},
                "registration_closes_at",
            )
        )
    starts = event.starts_at
    if closes and starts and starts < closes and not (event.ends_at and closes > event.ends_at):
        items.append(
            ChecklistItem(
                "registration",
                "registration_after_start",
                WARNING,
                _(
                    "Registration closes after the event has started (%(start)s). That suits "
                    "several occasions or sign-ups on the day; otherwise close it earlier."
                )
                % {"start": _local(starts)},
                "registration_closes_at",
            )
        )
    deadline = event.cancellation_deadline
    if deadline and opens and deadline < opens:
        items.append(
            ChecklistItem(
                "cancellation",
                "cancellation_before_opening",
                WARNING,
                _(
                    "The cancellation deadline is before registration opens (%(opens)s): "
                    "participants could never cancel themselves."
                )
                % {"opens": _local(opens)},
                "cancellation_deadline",
            )
        )
    return items


def _contact(event: Event) -> list[ChecklistItem]:
    if event.pk and event.contacts.exists():
        return []
    return [
        ChecklistItem(
            "contact",
            "no_contact",
            WARNING,
            _(
                "No contact person: the event page names nobody to ask, and replies to the "
                "participants' emails reach nobody in particular."
            ),
            "contacts",
        )
    ]


def _programme(programme: list[AgendaItem], day_parts: list[DayPart]) -> list[ChecklistItem]:
    if not programme:
        return [
            ChecklistItem(
                "programme", "no_programme", WARNING, _("The event has no programme yet."), PROGRAMME
            )
        ]
    items = []
    # Without any day part there is nothing to hold the programme against; "no date" says so.
    windows = rules.day_part_windows(day_parts) if day_parts else None
    for entry in programme:
        problems = [(code, message) for _name, code, message in _clean_errors(entry)]
        if windows and not problems:
            found = rules.agenda_item_problem(entry.day_part, entry.starts, entry.ends, windows)
            if found is not None:
                problems.append((found[1].code, found[1].message))
        for code, message in problems:
            text = _("Programme item “%(title)s”: %(problem)s") % {"title": entry.title, "problem": message}
            items.append(ChecklistItem("programme", code, BLOCKING, text, PROGRAMME))
    return items
