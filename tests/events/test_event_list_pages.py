"""The public lists of events stay small and fast however many events there are: the event list
in pages, the home page, theme and series pages bounded, each a fixed number of queries."""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.list_views import EVENTS_ON_TOPIC_PAGE, EVENTS_PER_PAGE
from events.models import Event, Series
from events.services import registrations
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")

LIST = reverse("events:list")
TITLE = re.compile(r'id="event-\d+-title"[^>]*><a href="[^"]+">([^<]+)</a>')
NAV = re.compile(r"<nav[^>]*>.*?</nav>", re.S)


def titles(text: str) -> list[str]:
    return TITLE.findall(text)


def pagination(text: str) -> str:
    """The pagination nav of a page (the site's own navigation comes first)."""
    navs = [nav for nav in NAV.findall(text) if "page=" in nav]
    assert len(navs) == 1, navs
    return navs[0]


def links(nav: str) -> dict[str, str]:
    """Each link of the nav by its text, with its query string."""
    found = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', nav, re.S)
    return {re.sub(r"<[^>]+>|\s+", " ", label).strip(): html.unescape(href) for href, label in found}


def numbered_events(count: int, **kwargs) -> list[Event]:
    # One a day after those made before, so that the list order is the order of creation.
    start = Event.objects.count()
    return [
        factories.event(title=f"Meeting no {n:03d}", days_ahead=10 + n, **kwargs)
        for n in range(start, start + count)
    ]


def in_the_past(*events: Event) -> None:
    for days, event in enumerate(events, start=1):
        moment = timezone.now() - dt.timedelta(days=days)
        Event.objects.filter(pk=event.pk).update(starts_at=moment, ends_at=moment)


# --- pages of the event list ----------------------------------------------------------------


def test_page_two_holds_the_events_after_page_one_and_none_is_lost(client, db):
    events = numbered_events(EVENTS_PER_PAGE + 3)
    first = titles(client.get(LIST).text)
    second = titles(client.get(LIST, {"page": 2}).text)
    assert len(first) == EVENTS_PER_PAGE and len(second) == 3
    assert first + second == [event.title for event in events]


def test_events_on_the_same_day_are_split_between_pages_without_repeats(client, db):
    # The same start for all: without a tie-breaker in the order, a page could repeat an event
    # of the page before and leave another out.
    for n in range(EVENTS_PER_PAGE + 2):
        factories.event(title=f"Same day {n:03d}", days_ahead=20)
    seen = titles(client.get(LIST).text) + titles(client.get(LIST, {"page": 2}).text)
    assert len(seen) == len(set(seen)) == EVENTS_PER_PAGE + 2


def test_past_events_come_in_pages_too_latest_first(client, db):
    events = numbered_events(EVENTS_PER_PAGE + 1)
    in_the_past(*events)  # events[0] is the latest
    first = titles(client.get(LIST, {"when": "past"}).text)
    second = titles(client.get(LIST, {"when": "past", "page": 2}).text)
    assert first + second == [event.title for event in events]


def test_a_single_page_has_no_pagination(client, db):
    numbered_events(2)
    text = client.get(LIST).text
    assert not [nav for nav in NAV.findall(text) if "page=" in nav]
    assert "Page 1 of 1" not in text


def test_the_pagination_nav_is_named_marks_the_current_page_and_says_where_one_is(client, db):
    numbered_events(2 * EVENTS_PER_PAGE + 1)
    text = client.get(LIST, {"page": 2}).text
    nav = pagination(text)
    assert re.search(r'<nav [^>]*aria-label="Pages of events"', nav)
    assert "Page 2 of 3" in nav
    current = re.findall(r'<a [^>]*aria-current="page"[^>]*>(.*?)</a>', nav, re.S)
    assert len(current) == 1 and re.sub(r"<[^>]+>|\s", "", current[0]).endswith("2")
    found = links(nav)
    assert found["Previous page"].endswith("page=1") and found["Next page"].endswith("page=3")
    assert 'rel="prev"' in nav and 'rel="next"' in nav
    # Each page says which page it is in its title too (a search result or a tab).
    assert re.search(r"<title>[^<]*Page 2 of 3", text)


def test_the_first_and_last_pages_offer_no_link_beyond_them(client, db):
    numbered_events(EVENTS_PER_PAGE + 1)
    assert "Previous page" not in links(pagination(client.get(LIST).text))
    assert "Next page" not in links(pagination(client.get(LIST, {"page": 2}).text))


def test_every_filter_survives_in_the_page_links(client, db):
    cycling = factories.theme("cycling", "Cycling infrastructure")
    numbered_events(EVENTS_PER_PAGE + 2, main_theme=cycling, event_format=Event.Format.IN_PERSON)
    factories.event(title="Online elsewhere")
    params = {"theme": "cycling", "format": "in_person", "when": "upcoming"}
    first = client.get(LIST, params).text
    assert "Online elsewhere" not in first
    next_link = links(pagination(first))["Next page"]
    for key, value in params.items():
        assert f"{key}={value}" in next_link
    assert "page=2" in next_link
    second = client.get(LIST + next_link).text
    assert len(titles(second)) == 2 and "Online elsewhere" not in second
    previous_link = links(pagination(second))["Previous page"]
    assert "theme=cycling" in previous_link and "format=in_person" in previous_link


def test_the_filter_form_starts_again_at_the_first_page(client, db):
    numbered_events(EVENTS_PER_PAGE + 1)
    text = client.get(LIST, {"page": 2}).text
    form = re.search(r'<form method="get".*?</form>', text, re.S).group(0)
    assert 'name="page"' not in form


@pytest.mark.parametrize("page", ["999", "99999999999999999999999", "0", "-1"])
def test_a_page_beyond_the_end_shows_the_last_page(client, db, page):
    events = numbered_events(EVENTS_PER_PAGE + 1)
    response = client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert titles(response.text) == [events[-1].title]
    assert "Page 2 of 2" in response.text


@pytest.mark.parametrize("page", ["abc", "", "2.5", "1e3", "%00", "last"])
def test_a_page_that_is_not_a_number_shows_the_first_page(client, db, page):
    events = numbered_events(EVENTS_PER_PAGE + 1)
    response = client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert titles(response.text)[0] == events[0].title


def test_no_events_at_all_is_a_page_not_an_error(client, db):
    for page in ("1", "5", "x"):
        response = client.get(LIST, {"page": page})
        assert response.status_code == 200
        assert "No events match these filters." in response.text


def test_theme_and_month_filters_list_each_event_once(client, db):
    cycling = factories.theme("cycling", "Cycling infrastructure")
    # Two occasions a week apart in the same month: a start on the 1st to the 20th. The factory
    # counts days from now in UTC and starts at noon UTC, so the day is counted the same way (the
    # local date differs near midnight).
    days = next(d for d in range(30, 62) if (timezone.now() + dt.timedelta(days=d)).day <= 20)
    tagged = factories.event(title="Tagged with cycling", capacities=(10, 10), days_ahead=days)
    tagged.themes.add(cycling, factories.theme())
    factories.event(title="Cycling main", main_theme=cycling)
    factories.event(title="Charging only")
    assert sorted(titles(client.get(LIST, {"theme": "cycling"}).text)) == [
        "Cycling main",
        "Tagged with cycling",
    ]
    starts = [timezone.localtime(o.starts_at).strftime("%Y-%m") for o in tagged.occasions.all()]
    assert len(starts) == 2 and starts[0] == starts[1]
    text = client.get(LIST, {"month": starts[0], "theme": "cycling"}).text
    assert titles(text).count("Tagged with cycling") == 1


# --- what the list reads --------------------------------------------------------------------


def _with_registrations(events: list[Event], member) -> None:
    for event in events[:3]:
        registrations.register(
            make_member(f"p{event.pk}@aarhus.dk", member.organization), event.occasions.first()
        )


def _queries(client, url, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(
    "params", [{}, {"page": 2}, {"theme": "charging", "format": "online", "month": "", "when": "upcoming"}]
)
def test_the_list_is_a_fixed_number_of_queries_at_5_and_at_40_events(client, member, params):
    series = Series.objects.create(title="Network", slug="network")
    events = numbered_events(5, capacities=(5, 5), half_days=2)
    Event.objects.filter(pk__in=[e.pk for e in events]).update(series=series)
    _with_registrations(events, member)
    few = _queries(client, LIST, params)
    more = numbered_events(35, capacities=(5, 5, 5), half_days=2)
    Event.objects.filter(pk__in=[e.pk for e in more]).update(series=series)
    _with_registrations(more, member)
    many = _queries(client, LIST, params)
    assert len(many) == len(few) <= 8, "\n".join(many)


def test_the_list_reads_no_descriptions(client, db):
    numbered_events(3)
    for sql in _queries(client, LIST):
        assert '"events_event"."description"' not in sql
        if 'FROM "events_event"' in sql:
            assert '"events_theme"."description"' not in sql and '"events_series"."description"' not in sql
            assert '"events_event"."audience"' not in sql


def test_the_list_still_shows_what_each_card_shows(client, member):
    series = Series.objects.create(title="Green network", slug="green-network")
    event = factories.event(title="Charging meeting", capacities=(28, 10), half_days=2)
    Event.objects.filter(pk=event.pk).update(series=series)
    registrations.register(member, event.occasions.first())
    text = client.get(LIST).text
    assert "Charging meeting" in text and "A workshop on green mobility." in text
    assert "27 of 28 seats left" in text and "10 of 10 seats left" in text
    assert 'href="/events/series/green-network/"' in text and "Green network" in text
    assert "Charging infrastructure" in text and "Online" in text
    assert text.count("<time datetime=") == 4


# --- home, theme and series pages -----------------------------------------------------------


def test_home_shows_a_few_next_events_and_links_to_the_list(client, db):
    events = numbered_events(8)
    text = client.get(reverse("home")).text
    assert titles(text) == [event.title for event in events[:5]]
    assert f'href="{LIST}"' in text


def test_home_is_a_fixed_number_of_queries_at_5_and_at_40_events(client, member):
    _with_registrations(numbered_events(5, capacities=(5, 5)), member)
    few = _queries(client, reverse("home"))
    _with_registrations(numbered_events(35, capacities=(5, 5, 5)), member)
    assert len(_queries(client, reverse("home"))) == len(few)


def _topic_pages(series: Series) -> list[str]:
    return [reverse("events:theme", args=["charging"]), reverse("events:series", args=[series.slug])]


def test_theme_and_series_pages_show_a_bounded_number_and_link_to_the_rest(client, db):
    series = Series.objects.create(title="Network", slug="network")
    upcoming = numbered_events(EVENTS_ON_TOPIC_PAGE + 2)
    past = numbered_events(EVENTS_ON_TOPIC_PAGE + 1)
    in_the_past(*past)
    Event.objects.update(series=series)
    for url, key, value in zip(
        _topic_pages(series), ("theme", "series"), ("charging", "network"), strict=True
    ):
        text = client.get(url).text
        shown = titles(text)
        assert shown == [e.title for e in upcoming[:EVENTS_ON_TOPIC_PAGE]] + [
            e.title for e in past[:EVENTS_ON_TOPIC_PAGE]
        ]
        assert f'href="{LIST}?{key}={value}"' in text
        assert f'href="{LIST}?when=past&amp;{key}={value}"' in text


def test_theme_and_series_pages_without_more_events_link_to_no_list(client, db):
    series = Series.objects.create(title="Network", slug="network")
    numbered_events(2)
    Event.objects.update(series=series)
    for url in _topic_pages(series):
        text = client.get(url).text
        assert len(titles(text)) == 2
        assert f'href="{LIST}?' not in text


def test_theme_and_series_pages_are_a_fixed_number_of_queries_at_5_and_at_40_events(client, member):
    series = Series.objects.create(title="Network", slug="network")
    events = numbered_events(5, capacities=(5, 5))
    in_the_past(*events[:2])
    _with_registrations(events, member)
    Event.objects.update(series=series)
    few = [len(_queries(client, url)) for url in _topic_pages(series)]
    more = numbered_events(35, capacities=(5, 5, 5))
    in_the_past(*more[:20])
    _with_registrations(more, member)
    Event.objects.update(series=series)
    assert [len(_queries(client, url)) for url in _topic_pages(series)] == few
