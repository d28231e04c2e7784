"""Issue 11, defect 7: calendar files that calendar apps act on. A cancellation is METHOD:CANCEL
(an entry only marked CANCELLED stays in many calendars), every change raises SEQUENCE under the
same UIDs, the email's mimetype names the file's METHOD, and each network's events are written
in its own country's time zone."""

import datetime as dt

import icalendar
import pytest
from django.core import mail
from django.test import override_settings

from events import calendar, selectors
from events.models import DayPart, Event, Registration
from events.services import lifecycle, registrations
from tests import factories
from tests.events.notified import only_mail_to, register_for

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def _file(registration: Registration) -> icalendar.Calendar:
    fresh = selectors.registrations_with_schedule().get(pk=registration.pk)
    return icalendar.Calendar.from_ical(calendar.registration_calendar(fresh))


def _sequences(cal: icalendar.Calendar) -> set[int]:
    return {int(vevent["SEQUENCE"]) for vevent in cal.events}


def _uids(cal: icalendar.Calendar) -> list[str]:
    return sorted(str(vevent["UID"]) for vevent in cal.events)


def _attachments(message) -> list[tuple[icalendar.Calendar, str]]:
    return [
        (icalendar.Calendar.from_ical(content), mimetype) for _name, content, mimetype in message.attachments
    ]


def test_a_new_registration_is_published_with_sequence_0_and_an_organizer(member, _send_on_commit):
    registration = register_for(member, factories.event(half_days=2).occasions.get(), _send_on_commit)

    [(cal, mimetype)] = _attachments(only_mail_to(member))

    assert cal["METHOD"] == "PUBLISH" and mimetype.endswith("method=PUBLISH")
    assert _sequences(cal) == {0}
    assert all(str(vevent["ORGANIZER"]).startswith("mailto:") for vevent in cal.events)
    assert _uids(cal) == _uids(_file(registration))


def test_a_cancelled_registration_is_a_cancel_with_a_higher_sequence_in_file_and_email(
    member, _send_on_commit
):
    registration = register_for(member, factories.event(half_days=2).occasions.get(), _send_on_commit)
    before = _file(registration)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.cancel(registration, actor=member)

    [(cal, mimetype)] = _attachments(only_mail_to(member))

    assert cal["METHOD"] == "CANCEL"
    assert mimetype == "text/calendar; charset=utf-8; method=CANCEL"
    assert {vevent["STATUS"] for vevent in cal.events} == {"CANCELLED"}
    assert _uids(cal) == _uids(before)  # the same entries the confirmation put in the calendar
    assert min(_sequences(cal)) > max(_sequences(before))
    assert {str(vevent["ATTENDEE"]) for vevent in cal.events} == {f"mailto:{member.email}"}
    assert _file(registration)["METHOD"] == "CANCEL"  # the download says the same


def test_a_cancelled_event_is_a_cancel_with_a_higher_sequence(member, organizer, _send_on_commit):
    event = factories.event(half_days=2)
    registration = register_for(member, event.occasions.get(), _send_on_commit)
    before = _file(registration)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        lifecycle.cancel_event(event, organizer=organizer)

    [(cal, mimetype)] = _attachments(only_mail_to(member))

    assert cal["METHOD"] == "CANCEL" and mimetype.endswith("method=CANCEL")
    assert {vevent["STATUS"] for vevent in cal.events} == {"CANCELLED"}
    assert _uids(cal) == _uids(before)
    assert min(_sequences(cal)) > max(_sequences(before))


def test_the_sequence_rises_with_a_move_and_with_a_changed_time_under_the_same_uids(member, _send_on_commit):
    event = factories.event(capacities=(5, 5), half_days=2)
    first, second = event.occasions.order_by("starts_at")
    registration = register_for(member, first, _send_on_commit)
    registered = _file(registration)

    with _send_on_commit(execute=True):
        registrations.move(registration, second, actor=member)
    moved = _file(registration)

    before = selectors.schedule_snapshot(event)
    DayPart.objects.filter(occasion=second).update(starts_at=second.starts_at - dt.timedelta(hours=1))
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        lifecycle.announce_changes(event, before)
    [(changed, mimetype)] = _attachments(only_mail_to(member))

    assert _uids(registered) == _uids(moved) == _uids(changed)
    assert max(_sequences(registered)) < min(_sequences(moved))
    assert max(_sequences(moved)) < min(_sequences(changed))
    assert changed["METHOD"] == "PUBLISH" and mimetype.endswith("method=PUBLISH")
    assert min(vevent.start for vevent in changed.events) == second.starts_at - dt.timedelta(hours=1)


def test_a_move_to_an_occasion_with_fewer_day_parts_cancels_the_old_last_day_part(member, _send_on_commit):
    event = factories.event(capacities=(5, 5), half_days=2)
    first, second = event.occasions.order_by("starts_at")
    DayPart.objects.filter(occasion=second, number=2).delete()
    lifecycle.refresh_schedule(event)
    registration = register_for(member, first, _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.move(registration, second, actor=member)

    (published, published_type), (cancelled, cancelled_type) = _attachments(only_mail_to(member))

    assert published["METHOD"] == "PUBLISH" and published_type.endswith("method=PUBLISH")
    assert [str(v["UID"]).split("@")[0] for v in published.events] == [
        f"registration-{registration.pk}-part-1"
    ]
    assert cancelled["METHOD"] == "CANCEL" and cancelled_type.endswith("method=CANCEL")
    assert [str(v["UID"]).split("@")[0] for v in cancelled.events] == [
        f"registration-{registration.pk}-part-2"
    ]
    assert {v["STATUS"] for v in cancelled.events} == {"CANCELLED"}
    assert _sequences(cancelled) == _sequences(published) == {1}


def test_a_move_between_occasions_alike_sends_no_cancel(member, _send_on_commit):
    event = factories.event(capacities=(5, 5), half_days=2)
    first, second = event.occasions.order_by("starts_at")
    registration = register_for(member, first, _send_on_commit)
    mail.outbox.clear()
    with _send_on_commit(execute=True):
        registrations.move(registration, second, actor=member)

    assert [cal["METHOD"] for cal, _type in _attachments(only_mail_to(member))] == ["PUBLISH"]


@pytest.mark.parametrize(
    ("language", "zone"),
    [("sv", "Europe/Stockholm"), ("da", "Europe/Copenhagen"), ("en", "Europe/Copenhagen")],
)
def test_each_event_is_written_in_its_networks_time_zone(member, language, zone):
    event = factories.event(half_days=2)
    Event.objects.filter(pk=event.pk).update(language=language)
    registration = registrations.register(member, event.occasions.get())

    cal = _file(registration)

    assert {vevent["DTSTART"].params["TZID"] for vevent in cal.events} == {zone}
    assert [tz.tz_name for tz in cal.timezones] == [zone]
    first = min(vevent.start for vevent in cal.events)
    assert first == event.occasions.get().starts_at  # the same moment, only named by its zone


@override_settings(TIME_ZONE="Europe/Stockholm")
def test_an_english_event_keeps_the_portals_time_zone(member):
    registration = registrations.register(member, factories.event().occasions.get())

    assert {v["DTSTART"].params["TZID"] for v in _file(registration).events} == {"Europe/Stockholm"}


def test_the_feed_stays_a_publication_with_a_cancelled_event_marked(client, member, organizer):
    event = factories.event()
    registrations.register(member, event.occasions.get())
    lifecycle.cancel_event(event, organizer=organizer)

    cal = icalendar.Calendar.from_ical(calendar.feed_calendar(member))

    # A subscription is replaced whole at each fetch: PUBLISH, the cancelled event marked so.
    assert cal["METHOD"] == "PUBLISH"
    assert [(v["STATUS"], int(v["SEQUENCE"])) for v in cal.events] == [("CANCELLED", 1)]
