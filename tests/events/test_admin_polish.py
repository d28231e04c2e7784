"""The events admin as an organizer reads it: times to the minute with a format example in
their language, reminder days on the event form, occasions named by date, the event list's
important columns first and filter titles in words."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import AgendaItem, DayPart, Event
from tests import factories
from tests.admin_forms import form_data

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _change_url(event: Event) -> str:
    return reverse("admin:events_event_change", args=[event.pk])


def test_programme_and_day_part_times_show_no_seconds(organizer_client):
    event = factories.event()
    AgendaItem.objects.create(
        event=event,
        starts=dt.time(10, 0),
        ends=dt.time(10, 45),
        title="Opening",
        kind=AgendaItem.Kind.DISCUSSION,
    )
    day_part = DayPart.objects.get(occasion__event=event)

    event_page = organizer_client.get(_change_url(event)).content.decode()
    occasion_page = organizer_client.get(
        reverse("admin:events_occasion_change", args=[day_part.occasion_id])
    ).content.decode()

    assert 'name="agenda_items-0-starts" value="10:00"' in event_page
    assert 'name="agenda_items-0-ends" value="10:45"' in event_page
    assert 'name="day_parts-0-starts_at_1" value="' in occasion_page
    assert not re.search(r'value="\d\d:\d\d:\d\d"', event_page + occasion_page)


def _speaks(organizer, language: str) -> None:
    organizer.preferred_language = language
    organizer.save(update_fields=["preferred_language"])


def test_dates_show_a_format_example_in_the_organizers_language(organizer_client, organizer):
    event = factories.event()

    _speaks(organizer, "da")
    danish = organizer_client.get(_change_url(event)).content.decode()
    _speaks(organizer, "sv")
    swedish = organizer_client.get(_change_url(event)).content.decode()

    assert "27.10.2027 14:00" in danish
    assert "2027-10-27 14:00" in swedish


def test_a_date_typed_as_the_example_shows_is_accepted(organizer_client, organizer):
    _speaks(organizer, "da")
    event = factories.event()
    url = _change_url(event)
    data = form_data(organizer_client.get(url), "event_form")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    data["registration_opens_at_0"] = [tomorrow.strftime("%d.%m.%Y")]
    data["registration_opens_at_1"] = ["09:30"]

    response = organizer_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    opens = timezone.localtime(event.registration_opens_at)
    assert (opens.date(), opens.time()) == (tomorrow, dt.time(9, 30))


def test_reminder_days_are_typed_as_a_list_of_days(organizer_client):
    event = factories.event()
    url = _change_url(event)
    page = organizer_client.get(url)
    assert 'name="reminder_days" value="7, 1"' in page.content.decode()

    data = form_data(page, "event_form")
    data["reminder_days"] = ["14, 2"]
    response = organizer_client.post(url, data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.reminder_days == [14, 2]


@pytest.mark.parametrize("typed", ["0", "abc", "7, 61"])
def test_reminder_days_outside_one_to_sixty_whole_days_are_refused(organizer_client, typed):
    event = factories.event()
    url = _change_url(event)
    data = form_data(organizer_client.get(url), "event_form")
    data["reminder_days"] = [typed]

    response = organizer_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reminder_days"] == [
        "Enter whole days between 1 and 60, separated by commas, e.g. 7, 1."
    ]
    event.refresh_from_db()
    assert event.reminder_days == [7, 1]


def test_occupancy_names_an_occasion_without_label_by_its_date(organizer_client):
    event = factories.event()
    occasion = event.occasions.get()
    occasion.label = ""
    occasion.save()

    response = organizer_client.get(reverse("admin:events_event_occupancy", args=[event.pk]))

    assert f">{occasion.display_label}</a>" in response.content.decode()
    assert f">{occasion.pk}</a>" not in response.content.decode()


def test_event_list_shows_status_and_seats_before_the_wide_columns(organizer_client):
    factories.event()
    response = organizer_client.get(reverse("admin:events_event_changelist"))

    columns = response.context["cl"].list_display
    assert columns[:5] == ["action_checkbox", "title", "starts_at", "status", "seats"]
    assert "series" not in columns


def test_event_list_keeps_the_series_as_a_filter_titled_in_words(organizer_client, organizer):
    _speaks(organizer, "da")
    factories.event()
    response = organizer_client.get(reverse("admin:events_event_changelist"))

    titles = [str(spec.title) for spec in response.context["cl"].filter_specs]
    # Only filters with a choice show; this event has no series.
    assert titles == ["status", "mødeform", "arrangørteam", "hovedtema"]
    assert "series" in [spec[0] for spec in response.context["cl"].list_filter if isinstance(spec, tuple)]


def test_the_registration_list_filters_by_event_titled_in_the_organizers_language(
    organizer_client, organizer, member
):
    """ "Efter event": the registration's event key has no verbose name of its own."""
    from events.services import registrations

    _speaks(organizer, "da")
    registrations.register(member, factories.event().occasions.get())
    registrations.register(member, factories.event().occasions.get())  # a filter shows from two
    response = organizer_client.get(reverse("admin:events_registration_changelist"))

    titles = [str(spec.title) for spec in response.context["cl"].filter_specs]
    assert "arrangement" in titles
    assert "event" not in titles
