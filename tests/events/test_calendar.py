"""Calendar files of a registration and the member's private calendar feed."""

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events import calendar
from events.models import CalendarFeed, DayPart, Event, Registration
from events.services import lifecycle, registrations
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _lunch_to_lunch(event: Event, zone: str, month: int = 11) -> int:
    """Move the event's two half-days to fixed local times next year: 12:30–16:30 on the 4th,
    9:00–12:30 on the 5th. Returns the year."""
    year = timezone.now().year + 1
    local = ZoneInfo(zone)

    def at(day: int, hour: int, minute: int) -> dt.datetime:
        return dt.datetime(year, month, day, hour, minute, tzinfo=local)

    times = {1: (at(4, 12, 30), at(4, 16, 30)), 2: (at(5, 9, 0), at(5, 12, 30))}
    for part in DayPart.objects.filter(occasion__event=event):
        part.starts_at, part.ends_at = times[part.number]
        part.save()
    lifecycle.refresh_schedule(event)
    return year


def _workshop(**options) -> Event:
    return factories.event(half_days=2, **options)


def _vevents(content: bytes) -> list[icalendar.Event]:
    return icalendar.Calendar.from_ical(content).events


def _local(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None)


def _ics(client, registration: Registration):
    return client.get(reverse("events:registration_ics", args=[registration.pk]))


def _feed(client, token: str):
    return client.get(reverse("events:calendar_feed", args=[token]))


# --- the file of one registration -----------------------------------------------------------


def test_a_lunch_to_lunch_occasion_gives_one_event_per_half_day_in_local_time(member):
    event = _workshop()
    year = _lunch_to_lunch(event, "Europe/Copenhagen")
    registration = registrations.register(member, event.occasions.get())

    content = calendar.registration_calendar(registration)
    cal = icalendar.Calendar.from_ical(content)
    first, second = cal.events

    assert (_local(first.start), _local(first.end)) == (
        dt.datetime(year, 11, 4, 12, 30),
        dt.datetime(year, 11, 4, 16, 30),
    )
    assert (_local(second.start), _local(second.end)) == (
        dt.datetime(year, 11, 5, 9, 0),
        dt.datetime(year, 11, 5, 12, 30),
    )
    assert first["DTSTART"].params["TZID"] == "Europe/Copenhagen"
    assert f"DTSTART;TZID=Europe/Copenhagen:{year}1104T123000".encode() in content
    assert [tz.tz_name for tz in cal.timezones] == ["Europe/Copenhagen"]
    assert cal["METHOD"] == "PUBLISH"
    assert cal["PRODID"]
    assert all(vevent.stamp for vevent in (first, second))


@override_settings(TIME_ZONE="Europe/Stockholm")
def test_times_are_in_the_configured_time_zone_also_in_summer(member):
    event = _workshop()
    year = _lunch_to_lunch(event, "Europe/Stockholm", month=6)
    registration = registrations.register(member, event.occasions.get())

    content = calendar.registration_calendar(registration)
    first, second = _vevents(content)

    assert first["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert f"DTSTART;TZID=Europe/Stockholm:{year}0604T123000".encode() in content
    assert _local(second.start) == dt.datetime(year, 6, 5, 9, 0)
    # Summer time: 12:30 in Stockholm is 10:30 UTC.
    assert first.start.astimezone(dt.UTC).hour == 10
    assert [tz.tz_name for tz in icalendar.Calendar.from_ical(content).timezones] == ["Europe/Stockholm"]


def test_uids_are_stable_and_distinct_per_day_part(member):
    registration = registrations.register(member, _workshop().occasions.get())

    uids = [str(v["UID"]) for v in _vevents(calendar.registration_calendar(registration))]
    again = [str(v["UID"]) for v in _vevents(calendar.registration_calendar(registration))]

    assert uids == again
    assert len(set(uids)) == 2
    assert all(uid.startswith(f"registration-{registration.pk}-part-") for uid in uids)


def test_a_confirmed_registration_has_title_summary_link_to_the_event_and_the_online_link(member):
    event = _workshop(event_format=Event.Format.ONLINE)
    occasion = event.occasions.get()
    registration = registrations.register(member, occasion)
    assert registration.status == Registration.Status.CONFIRMED

    vevent = _vevents(calendar.registration_calendar(registration))[0]
    event_url = settings.SITE_URL + event.get_absolute_url()

    assert vevent["SUMMARY"] == event.title
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent["URL"] == event_url
    assert event.summary in vevent["DESCRIPTION"]
    assert event_url in vevent["DESCRIPTION"]
    assert vevent["LOCATION"] == occasion.online_url


def test_a_waitlisted_registration_is_tentative_and_never_carries_the_online_link(member, other_member):
    occasion = _workshop(capacities=(1,)).occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)
    assert waiting.status == Registration.Status.WAITLISTED

    content = calendar.registration_calendar(waiting)
    vevents = _vevents(content)

    assert len(vevents) == 2
    assert occasion.online_url.encode() not in content
    assert b"meet.example.org" not in content
    for vevent in vevents:
        assert vevent["STATUS"] == "TENTATIVE"
        assert vevent["SUMMARY"].endswith("(waiting list)")
        assert occasion.online_url not in vevent.get("LOCATION", "")
        assert occasion.online_url not in vevent["DESCRIPTION"]


def test_a_cancelled_registration_is_cancelled_and_loses_the_online_link(member):
    occasion = _workshop().occasions.get()
    registration = registrations.register(member, occasion)
    registrations.cancel(registration, actor=member)
    registration.refresh_from_db()

    content = calendar.registration_calendar(registration)

    assert {v["STATUS"] for v in _vevents(content)} == {"CANCELLED"}
    assert occasion.online_url.encode() not in content


def test_a_cancelled_event_is_cancelled_in_the_calendar(member):
    event = _workshop()
    registration = registrations.register(member, event.occasions.get())
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    registration = Registration.objects.select_related("event", "occasion").get(pk=registration.pk)

    assert {v["STATUS"] for v in _vevents(calendar.registration_calendar(registration))} == {"CANCELLED"}


def test_a_meeting_in_a_room_has_the_venue_and_address_as_location(member):
    event = _workshop(event_format=Event.Format.HYBRID)
    occasion = event.occasions.get()
    occasion.venue = "Aarhus Rådhus"
    occasion.address = "Rådhuspladsen 2\n8000 Aarhus C"
    occasion.save()
    registration = registrations.register(member, occasion)

    vevent = _vevents(calendar.registration_calendar(registration))[0]

    assert vevent["LOCATION"] == "Aarhus Rådhus, Rådhuspladsen 2, 8000 Aarhus C"
    # A hybrid meeting's participant still gets the link, in the description.
    assert occasion.online_url in vevent["DESCRIPTION"]


# --- downloading the file -------------------------------------------------------------------


def test_the_owner_downloads_the_file(client, member):
    event = _workshop()
    registration = registrations.register(member, event.occasions.get())
    client.force_login(member)

    response = _ics(client, registration)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    assert "private" in response["Cache-Control"]
    assert len(_vevents(response.content)) == 2


@pytest.mark.parametrize("who", ["other_member", "colleague", "organizer"])
def test_nobody_else_gets_the_file(client, member, who, request):
    registration = registrations.register(member, _workshop().occasions.get())
    client.force_login(request.getfixturevalue(who))

    assert _ics(client, registration).status_code == 404


def test_anonymous_is_sent_to_log_in(client, member):
    registration = registrations.register(member, _workshop().occasions.get())

    response = _ics(client, registration)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_file_refuses_post(client, member):
    registration = registrations.register(member, _workshop().occasions.get())
    client.force_login(member)

    assert client.post(reverse("events:registration_ics", args=[registration.pk])).status_code == 405


# --- the feed -------------------------------------------------------------------------------


def test_the_feed_works_without_login(client, member):
    first = registrations.register(member, _workshop().occasions.get())
    second = registrations.register(member, _workshop().occasions.get())
    token = calendar.calendar_feed_for(member).token

    response = _feed(client, token)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    cal = icalendar.Calendar.from_ical(response.content)
    assert cal["METHOD"] == "PUBLISH"
    assert [tz.tz_name for tz in cal.timezones] == ["Europe/Copenhagen"]
    host = urlsplit(settings.SITE_URL).hostname
    uids = {str(v["UID"]) for v in cal.events}
    assert uids == {f"registration-{r.pk}-part-{n}@{host}" for r in (first, second) for n in (1, 2)}


def test_the_feed_address_is_the_same_each_time(member):
    assert calendar.calendar_feed_for(member) == calendar.calendar_feed_for(member)
    assert CalendarFeed.objects.filter(user=member).count() == 1
    assert calendar.calendar_feed_url(member).startswith(settings.SITE_URL + "/events/calendar/")


def test_a_wrong_token_is_not_found(client, member):
    calendar.calendar_feed_for(member)

    assert _feed(client, "not-the-token").status_code == 404


def test_a_deactivated_member_has_no_feed(client, member):
    token = calendar.calendar_feed_for(member).token
    member.is_active = False
    member.save()

    assert _feed(client, token).status_code == 404


def test_the_feed_keeps_the_waiting_list_without_the_link(client, member, other_member):
    occasion = _workshop(capacities=(1,)).occasions.get()
    registrations.register(other_member, occasion)
    registrations.register(member, occasion)

    response = _feed(client, calendar.calendar_feed_for(member).token)

    assert {v["STATUS"] for v in _vevents(response.content)} == {"TENTATIVE"}
    assert occasion.online_url.encode() not in response.content


def test_cancelled_registrations_are_not_in_the_feed(client, member):
    kept = registrations.register(member, _workshop().occasions.get())
    dropped = registrations.register(member, _workshop().occasions.get())
    registrations.cancel(dropped, actor=member)

    response = _feed(client, calendar.calendar_feed_for(member).token)

    uids = {str(v["UID"]) for v in _vevents(response.content)}
    assert {uid.split("-part-")[0] for uid in uids} == {f"registration-{kept.pk}"}


def test_the_feed_keeps_meetings_of_the_last_thirty_days_only(client, member):
    def past_event(days_ago: int) -> Registration:
        first_day = timezone.now() - dt.timedelta(days=days_ago)
        event = factories.event(
            days_ahead=-days_ago,
            opens_at=first_day - dt.timedelta(days=20),
            closes_at=first_day - dt.timedelta(days=1),
        )
        return registrations.register(member, event.occasions.get(), at=first_day - dt.timedelta(days=5))

    recent, old = past_event(10), past_event(40)

    content = _feed(client, calendar.calendar_feed_for(member).token).content

    assert f"registration-{recent.pk}-".encode() in content
    assert f"registration-{old.pk}-".encode() not in content


def test_reset_replaces_the_token_and_the_old_address_stops_working(client, member):
    registrations.register(member, _workshop().occasions.get())
    old_token = calendar.calendar_feed_for(member).token
    client.force_login(member)

    response = client.post(reverse("events:reset_calendar_feed"))

    assert response.status_code == 302
    assert response["Location"] == reverse("events:my_registrations")
    new_token = CalendarFeed.objects.get(user=member).token
    assert new_token != old_token
    client.logout()
    assert _feed(client, old_token).status_code == 404
    assert _feed(client, new_token).status_code == 200


def test_reset_needs_post_and_login(client, member):
    token = calendar.calendar_feed_for(member).token

    anonymous = client.post(reverse("events:reset_calendar_feed"))
    client.force_login(member)
    get = client.get(reverse("events:reset_calendar_feed"))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert get.status_code == 405
    assert CalendarFeed.objects.get(user=member).token == token


def test_the_feed_takes_the_same_number_of_queries_for_2_and_10_registrations(client, aarhus):
    def queries_for(count: int, name: str) -> tuple[int, int]:
        user = make_member(f"{name}@aarhus.dk", aarhus)
        for _ in range(count):
            registrations.register(user, _workshop().occasions.get())
        token = calendar.calendar_feed_for(user).token
        with CaptureQueriesContext(connection) as queries:
            response = _feed(client, token)
        assert len(_vevents(response.content)) == 2 * count
        return len(queries)

    few, many = queries_for(2, "few"), queries_for(10, "many")

    assert few == many
    assert many <= 4
