"""RSS and Atom feeds of newly published events."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from events.models import Event, Series
from tests import factories

ATOM = "{http://www.w3.org/2005/Atom}"


def _published(title: str, days_ago: int, status: str = Event.Status.PUBLISHED, **options) -> Event:
    # No occasions: the feeds read only the event itself.
    event = factories.event(title=title, capacities=(), status=status, **options)
    event.published_at = timezone.now() - dt.timedelta(days=days_ago)
    event.summary = f"About {title} & more"
    Event.objects.filter(pk=event.pk).update(published_at=event.published_at, summary=event.summary)
    return event


@pytest.fixture
def events(db) -> dict[str, Event]:
    cycling = factories.theme("test-bike-lanes", "Bike lanes and paths")
    return {
        "older": _published("Parking norms", days_ago=5),
        "newer": _published("Bike lanes", days_ago=1, main_theme=cycling),
        # A draft, even one that was published once and taken back, is not news.
        "draft": _published("Secret plans", days_ago=0, status=Event.Status.DRAFT),
        "cancelled": _published("Called off", days_ago=2, status=Event.Status.CANCELLED),
    }


def _rss(client, query: str = "") -> ET.Element:
    response = client.get(reverse("events:feed_rss") + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    return ET.fromstring(response.content)


def _atom(client, query: str = "") -> ET.Element:
    response = client.get(reverse("events:feed_atom") + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def test_rss_lists_published_events_newest_first_and_no_drafts(client, events):
    channel = _rss(client).find("channel")
    items = channel.findall("item")

    assert [item.findtext("title") for item in items] == ["Bike lanes", "Parking norms"]
    newer = items[0]
    assert newer.findtext("link").endswith(events["newer"].get_absolute_url())
    assert newer.findtext("link").startswith("http")
    # The summary is plain text, escaped once more for the HTML that readers expect here.
    assert newer.findtext("description") == "About Bike lanes &amp; more"
    assert newer.findtext("pubDate")
    assert [c.text for c in newer.findall("category")] == ["Bike lanes and paths"]


def test_atom_lists_published_events_newest_first_and_no_drafts(client, events):
    feed = _atom(client)
    entries = feed.findall(f"{ATOM}entry")

    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Bike lanes", "Parking norms"]
    newer = entries[0]
    assert newer.find(f"{ATOM}link").get("href").endswith(events["newer"].get_absolute_url())
    assert newer.findtext(f"{ATOM}summary") == "About Bike lanes &amp; more"
    assert newer.findtext(f"{ATOM}published")
    assert newer.findtext(f"{ATOM}updated")
    assert [c.get("term") for c in newer.findall(f"{ATOM}category")] == ["Bike lanes and paths"]


@override_settings(NETWORK_NAME="Nätverket för grön mobilitet")
def test_a_feed_of_one_theme_or_series_holds_only_its_events(client, events):
    older = events["older"]
    older.themes.add(factories.theme("test-hubs", "Mobility hubs"))
    series = Series.objects.create(title="Parkering", slug="parkering")
    Event.objects.filter(pk=older.pk).update(series=series)

    bikes = _rss(client, "?theme=test-bike-lanes").find("channel")
    assert [item.findtext("title") for item in bikes.findall("item")] == ["Bike lanes"]
    assert bikes.findtext("title") == "Nätverket för grön mobilitet: Bike lanes and paths"
    assert bikes.findtext("link").endswith("/events/?theme=test-bike-lanes")
    hubs = _atom(client, "?theme=test-hubs").findall(f"{ATOM}entry")  # another theme of the event
    assert [entry.findtext(f"{ATOM}title") for entry in hubs] == ["Parking norms"]
    in_series = _rss(client, "?series=parkering").findall("channel/item")
    assert [item.findtext("title") for item in in_series] == ["Parking norms"]
    # A theme nobody has is no error: the whole feed, as the public calendar does.
    assert len(_rss(client, "?theme=no-such-theme").findall("channel/item")) == 2


def test_other_themes_are_categories_too(client, db):
    event = _published("Shared mobility", days_ago=1)
    event.themes.add(factories.theme("test-hubs", "Mobility hubs"), event.main_theme)

    item = _rss(client).find("channel/item")

    assert [c.text for c in item.findall("category")] == [event.main_theme.name, "Mobility hubs"]


@override_settings(NETWORK_NAME="Nätverket för grön mobilitet")
def test_the_feeds_carry_the_network_name(client, events):
    assert _rss(client).findtext("channel/title") == "Nätverket för grön mobilitet"
    assert _atom(client).findtext(f"{ATOM}title") == "Nätverket för grön mobilitet"


def test_an_empty_feed_is_still_a_feed(client, db):
    assert _rss(client).find("channel/item") is None
    assert _atom(client).find(f"{ATOM}entry") is None


def test_the_feeds_hold_the_thirty_newest(client, db):
    for number in range(31):
        _published(f"Meeting {number:02}", days_ago=number + 1)

    titles = [item.findtext("title") for item in _rss(client).findall("channel/item")]

    assert len(titles) == 30
    assert titles[0] == "Meeting 00"
    assert "Meeting 30" not in titles
