"""The event page holds the whole event: its occasions with their day parts nested inside each,
the programme and the documents, validated together and saved in one submit.

The POSTs are built from the rendered page (tests/admin_forms.py), with rows added the way the
page's "Add …" links add them: a copy of a rendered row under the next index, and the
formset's TOTAL_FORMS raised."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import AgendaItem, DayPart, Event, Occasion
from tests import factories
from tests.admin_forms import form_data

pytestmark = pytest.mark.usefixtures("reference_organizations")

COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")
ADD_URL = "admin:events_event_add"


def event_url(event) -> str:
    return reverse("admin:events_event_change", args=[event.pk])


def add_page(client) -> dict[str, list[str]]:
    return form_data(client.get(reverse(ADD_URL)), "event_form")


def set_fields(data: dict, prefix: str = "", **values) -> None:
    for name, value in values.items():
        data[f"{prefix}{name}"] = [str(value)]


def describe_event(data: dict, title: str) -> None:
    theme = factories.theme()
    set_fields(
        data,
        title=title,
        slug=title.lower().replace(" ", "-"),
        main_theme=theme.pk,
        summary="Charging infrastructure in the municipalities.",
        format="in_person",
        language="da",
        registration_opens_at_0="2031-01-01",
        registration_opens_at_1="09:00",
        registration_closes_at_0="2031-10-01",
        registration_closes_at_1="09:00",
    )


def add_occasion_row(data: dict, index: int, **values) -> None:
    """What "Add an occasion" does: a new occasion row, with an empty day-part formset."""
    for name in list(data):
        if name.startswith("occasions-0-") and "-day_parts-" not in name:
            data[name.replace("occasions-0-", f"occasions-{index}-", 1)] = list(data[name])
    for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        data[f"occasions-{index}-day_parts-{name}"] = list(data[f"occasions-0-day_parts-{name}"])
    data[f"occasions-{index}-day_parts-TOTAL_FORMS"] = ["0"]
    data[f"occasions-{index}-day_parts-INITIAL_FORMS"] = ["0"]
    data["occasions-TOTAL_FORMS"] = [str(index + 1)]
    set_fields(data, f"occasions-{index}-", **values)


def day_part(data: dict, occasion: int, index: int, number: int, starts: str, ends: str) -> None:
    """Fill day part row `index` of an occasion row; times as "2031-10-14 12:00"."""
    prefix = f"occasions-{occasion}-day_parts-"
    starts_date, starts_time = starts.split()
    ends_date, ends_time = ends.split()
    set_fields(
        data,
        f"{prefix}{index}-",
        number=number,
        starts_at_0=starts_date,
        starts_at_1=starts_time,
        ends_at_0=ends_date,
        ends_at_1=ends_time,
    )
    total = int(data[f"{prefix}TOTAL_FORMS"][0])
    data[f"{prefix}TOTAL_FORMS"] = [str(max(total, index + 1))]


def programme(data: dict, *items: tuple[int, str, str, str]) -> None:
    data["agenda_items-TOTAL_FORMS"] = [str(len(items))]
    for index, (number, starts, ends, title) in enumerate(items):
        set_fields(
            data,
            f"agenda_items-{index}-",
            day_part=number,
            starts=starts,
            ends=ends,
            title=title,
            kind=AgendaItem.Kind.EXTERNAL_TALK,
        )


def inline_formset(response, prefix: str):
    return next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == prefix
    )


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, COPENHAGEN)


# --- one page, one submit --------------------------------------------------------------------


def test_the_add_page_starts_with_one_occasion_holding_one_day_part(organizer_client):
    data = add_page(organizer_client)
    assert data["occasions-TOTAL_FORMS"] == ["1"]
    assert data["occasions-0-day_parts-TOTAL_FORMS"] == ["1"]
    assert data["occasions-0-day_parts-0-number"] == ["1"]
    # One empty programme row, so that an item can be added without JavaScript.
    assert data["agenda_items-TOTAL_FORMS"] == ["1"]
    page = organizer_client.get(reverse(ADD_URL)).text
    # The links that add rows, each a whole phrase of its own (translated as such).
    links = {text.strip() for text in re.findall(r"djn-add-handler[^>]*>([^<]*)</a>", page)}
    assert links == {"Add an occasion", "Add a day part", "Add a programme item", "Add a document"}


def test_a_new_event_with_its_occasion_day_parts_and_programme_is_saved_in_one_post(organizer_client):
    data = add_page(organizer_client)
    describe_event(data, "Charging infrastructure")
    set_fields(data, "occasions-0-", label="27 October", capacity=60, venue="KL-huset")
    day_part(data, 0, 0, 1, "2031-10-27 09:30", "2031-10-27 12:00")
    day_part(data, 0, 1, 2, "2031-10-27 13:00", "2031-10-27 15:30")
    programme(
        data,
        (1, "09:30", "10:00", "Welcome"),
        (1, "10:00", "12:00", "Charging in the municipality"),
        (2, "13:00", "15:30", "Workshop"),
    )

    response = organizer_client.post(reverse(ADD_URL), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    event = Event.objects.get(slug="charging-infrastructure")
    occasion = event.occasions.get()
    assert (occasion.label, occasion.capacity) == ("27 October", 60)
    parts = [(p.number, local(p.starts_at).time(), local(p.ends_at).time()) for p in occasion.day_parts.all()]
    assert parts == [(1, dt.time(9, 30), dt.time(12)), (2, dt.time(13), dt.time(15, 30))]
    # The schedule service derived the dates of the occasion and the event from the day parts.
    assert local(event.starts_at) == dt.datetime(2031, 10, 27, 9, 30, tzinfo=COPENHAGEN)
    assert local(occasion.ends_at) == dt.datetime(2031, 10, 27, 15, 30, tzinfo=COPENHAGEN)
    assert list(event.agenda_items.values_list("title", flat=True)) == [
        "Welcome",
        "Charging in the municipality",
        "Workshop",
    ]
    assert response["Location"] == reverse("admin:events_event_changelist")


def test_later_occasions_copy_the_day_parts_above_shifted_by_a_week_in_one_post(organizer_client):
    """The Swedish workshop: three occasions, each two half-days lunch to lunch, a week apart;
    the third crosses the end of summer time (26 October 2031) and keeps its local hours."""
    data = add_page(organizer_client)
    describe_event(data, "Workshop hallbar mobilitet")
    set_fields(data, "occasions-0-", capacity=25, venue="Malmö")
    day_part(data, 0, 0, 1, "2031-10-13 12:00", "2031-10-13 17:00")
    day_part(data, 0, 1, 2, "2031-10-14 08:30", "2031-10-14 12:00")
    add_occasion_row(data, 1, capacity=25, venue="Lund", copy_day_parts_days=7)
    add_occasion_row(data, 2, capacity=25, venue="Helsingborg", copy_day_parts_days=7)
    programme(data, (1, "13:00", "17:00", "Mobility plans"), (2, "08:30", "11:30", "Field visit"))

    response = organizer_client.post(reverse(ADD_URL), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    event = Event.objects.get(slug="workshop-hallbar-mobilitet")
    schedule = {
        occasion.venue: [(p.number, local(p.starts_at), local(p.ends_at)) for p in occasion.day_parts.all()]
        for occasion in event.occasions.all()
    }

    def lunch_to_lunch(first_day: int):
        return [
            (
                1,
                dt.datetime(2031, 10, first_day, 12, tzinfo=COPENHAGEN),
                dt.datetime(2031, 10, first_day, 17, tzinfo=COPENHAGEN),
            ),
            (
                2,
                dt.datetime(2031, 10, first_day + 1, 8, 30, tzinfo=COPENHAGEN),
                dt.datetime(2031, 10, first_day + 1, 12, tzinfo=COPENHAGEN),
            ),
        ]

    assert schedule == {
        "Malmö": lunch_to_lunch(13),
        "Lund": lunch_to_lunch(20),
        "Helsingborg": lunch_to_lunch(27),
    }
    assert local(event.ends_at) == dt.datetime(2031, 10, 28, 12, tzinfo=COPENHAGEN)
    assert event.agenda_items.count() == 2


def test_copying_day_parts_needs_an_occasion_above_with_day_parts(organizer_client):
    data = add_page(organizer_client)
    describe_event(data, "Nothing to copy")
    set_fields(data, "occasions-0-", capacity=25, copy_day_parts_days=7)
    add_occasion_row(data, 1, capacity=25, copy_day_parts_days=7)

    response = organizer_client.post(reverse(ADD_URL), data)

    assert response.status_code == 200
    rows = inline_formset(response, "occasions").forms
    assert rows[0].errors == {
        "copy_day_parts_days": ["There is no occasion above to copy the day parts from."]
    }
    assert rows[1].errors == {"copy_day_parts_days": ["The occasion above has no day parts to copy."]}
    assert 'class="errorlist' in response.text and "There is no occasion above" in response.text
    assert not Event.objects.exists()


def test_an_occasion_with_its_own_day_parts_does_not_also_copy(organizer_client):
    data = add_page(organizer_client)
    describe_event(data, "Both at once")
    set_fields(data, "occasions-0-", capacity=25)
    day_part(data, 0, 0, 1, "2031-10-13 12:00", "2031-10-13 17:00")
    add_occasion_row(data, 1, capacity=25, copy_day_parts_days=7)
    day_part(data, 1, 0, 1, "2031-10-20 12:00", "2031-10-20 17:00")

    response = organizer_client.post(reverse(ADD_URL), data)

    assert response.status_code == 200
    assert inline_formset(response, "occasions").forms[1].errors == {
        "copy_day_parts_days": [
            "Leave the day parts of this occasion empty to copy those of the occasion above, "
            "or empty this field."
        ]
    }
    assert not Occasion.objects.exists()


def test_the_programme_is_checked_against_the_day_parts_posted_with_it(organizer_client):
    data = add_page(organizer_client)
    describe_event(data, "Evening talk")
    set_fields(data, "occasions-0-", capacity=30)
    day_part(data, 0, 0, 1, "2031-10-27 15:00", "2031-10-27 16:00")
    programme(data, (1, "21:00", "23:00", "Late talk"), (2, "15:00", "15:30", "No such day part"))

    response = organizer_client.post(reverse(ADD_URL), data)

    assert response.status_code == 200
    items = inline_formset(response, "agenda_items").forms
    assert items[0].errors == {"starts": ["Outside day part 1 (15:00–16:00)."]}
    assert items[1].errors == {"day_part": ["There is no day part 2. This event's day parts are: 1."]}
    assert "Outside day part 1 (15:00–16:00)." in response.text
    assert not Event.objects.exists() and not DayPart.objects.exists()


def test_the_programme_is_checked_against_day_parts_changed_in_the_same_post(organizer_client):
    event = factories.event()
    data = form_data(organizer_client.get(event_url(event)), "event_form")
    part = event.occasions.get().day_parts.get()
    day = f"{local(part.starts_at):%Y-%m-%d}"
    set_fields(
        data,
        "occasions-0-day_parts-0-",
        starts_at_0=day,
        starts_at_1="18:00",
        ends_at_0=day,
        ends_at_1="20:00",
    )
    programme(data, (1, "18:30", "19:30", "After the change"))

    response = organizer_client.post(event_url(event), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    part.refresh_from_db()
    assert local(part.starts_at).time() == dt.time(18)
    assert event.agenda_items.get().title == "After the change"


# --- status, numbers, the occasion's own page -----------------------------------------------------


def test_the_add_page_has_no_status_and_a_new_event_is_a_draft(organizer_client):
    page = organizer_client.get(reverse(ADD_URL)).text
    assert 'name="status"' not in page
    data = add_page(organizer_client)
    describe_event(data, "Drafted")
    set_fields(data, "occasions-0-", capacity=10)
    data["status"] = ["published"]  # not a field of the page: ignored

    response = organizer_client.post(reverse(ADD_URL), data)

    assert response.status_code == 302
    event = Event.objects.get(slug="drafted")
    assert (event.status, event.published_at) == (Event.Status.DRAFT, None)


def test_an_empty_day_part_row_is_numbered_after_the_occasions_day_parts(organizer_client):
    event = factories.event(half_days=2)
    data = form_data(organizer_client.get(event_url(event)), "event_form")
    assert data["occasions-0-day_parts-TOTAL_FORMS"] == ["3"]
    assert data["occasions-0-day_parts-2-number"] == ["3"]
    # The untouched row is not saved.
    response = organizer_client.post(event_url(event), data)
    assert response.status_code == 302
    assert event.occasions.get().day_parts.count() == 2


def test_saving_an_occasions_own_page_returns_to_its_event(organizer_client):
    event = factories.event()
    occasion = event.occasions.get()
    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = form_data(organizer_client.get(url), "occasion_form")
    data["label"] = ["Renamed"]

    response = organizer_client.post(url, data)

    assert response.status_code == 302
    assert response["Location"] == event_url(event)
    assert Occasion.objects.get(pk=occasion.pk).label == "Renamed"


# --- teams ----------------------------------------------------------------------------------------


def test_another_teams_event_page_takes_no_nested_rows(organizer_client):
    theirs = factories.event(team=factories.organizer_team("County boards"))
    their_part = DayPart.objects.get(occasion__event=theirs)
    before = (their_part.number, their_part.starts_at, their_part.ends_at)

    # Their event's page is not found (the admin sends one back to its index), for a GET and
    # for a POST of rows.
    missing = reverse("admin:index")
    assert organizer_client.get(event_url(theirs))["Location"] == missing
    response = organizer_client.post(
        event_url(theirs),
        {"occasions-TOTAL_FORMS": "1", "occasions-INITIAL_FORMS": "0", "occasions-0-capacity": "5"},
    )
    assert response["Location"] == missing
    assert theirs.occasions.count() == 1

    # Their day part named in a row of one's own event is not taken over.
    ours = factories.event()
    data = form_data(organizer_client.get(event_url(ours)), "event_form")
    data["occasions-0-day_parts-INITIAL_FORMS"] = ["2"]
    data["occasions-0-day_parts-TOTAL_FORMS"] = ["2"]
    set_fields(
        data,
        "occasions-0-day_parts-1-",
        id=their_part.pk,
        number=7,
        starts_at_0="2031-10-27",
        starts_at_1="08:00",
        ends_at_0="2031-10-27",
        ends_at_1="09:00",
    )
    organizer_client.post(event_url(ours), data)

    their_part.refresh_from_db()
    assert their_part.occasion.event == theirs
    assert (their_part.number, their_part.starts_at, their_part.ends_at) == before
    assert theirs.occasions.get().day_parts.count() == 1


def test_without_javascript_add_an_occasion_opens_its_page_and_returns_to_the_event(organizer_client):
    event = factories.event()
    page = organizer_client.get(event_url(event)).text
    add_url = f"{reverse('admin:events_occasion_add')}?event={event.pk}"
    assert re.search(rf'href="{re.escape(add_url)}"[^>]*>\s*Add an occasion\s*</a>', page)

    data = form_data(organizer_client.get(add_url), "occasion_form")
    assert data["event"] == [str(event.pk)]
    data.update({"label": ["Second date"], "capacity": ["12"]})
    day_part_fields = {"number": "1", "starts_at_0": "2031-10-27", "starts_at_1": "10:00"}
    set_fields(data, "day_parts-0-", **day_part_fields, ends_at_0="2031-10-27", ends_at_1="12:00")
    response = organizer_client.post(add_url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert response["Location"] == event_url(event)
    added = event.occasions.get(label="Second date")
    assert local(added.starts_at) == dt.datetime(2031, 10, 27, 10, tzinfo=COPENHAGEN)


def test_an_occasion_deleted_with_a_changed_day_part_is_deleted_with_its_day_parts(organizer_client):
    event = factories.event(capacities=(10, 12))
    kept, deleted = event.occasions.order_by("starts_at")
    data = form_data(organizer_client.get(event_url(event)), "event_form")
    data["occasions-1-DELETE"] = ["on"]
    data["occasions-1-day_parts-0-starts_at_1"] = ["08:00"]

    response = organizer_client.post(event_url(event), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(event.occasions.all()) == [kept]
    assert not DayPart.objects.filter(occasion_id=deleted.pk).exists()
    event.refresh_from_db()
    assert event.ends_at == kept.day_parts.get().ends_at
