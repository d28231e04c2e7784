"""The embedded list of events (/embed/events/) for the network's own website: the next
published events, no script and no form, framed by any site while every other page refuses to
be framed, links that open the portal in the whole window, the feeds linked, in the language
asked for."""

import re

import icalendar
import pytest
from django.test import Client

from events.models import Event, Occasion
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")
EMBED = "/embed/events/"


@pytest.fixture
def events(db):
    cycling = factories.theme("cycling", "Cycling")
    found = [factories.event(title=f"Meeting {n}", days_ahead=10 + n) for n in range(7)]
    found.append(factories.event(title="On bikes", days_ahead=5, main_theme=cycling))
    factories.event(title="Secret plans", days_ahead=3, status=Event.Status.DRAFT)
    return found


def _titles(html: str) -> list[str]:
    return re.findall(r'class="h5 card-title"[^>]*><a href="[^"]+">([^<]+)</a>', html)


def test_the_next_five_published_events_and_nothing_else_of_the_portal(events):
    response = Client().get(EMBED)
    html = response.content.decode()
    assert response.status_code == 200
    assert _titles(html) == ["On bikes", "Meeting 0", "Meeting 1", "Meeting 2", "Meeting 3"]
    assert "Secret plans" not in html
    assert "<script" not in html and "<form" not in html and "<nav" not in html
    assert '<base target="_top">' in html  # links open the portal, not a portal inside the site
    assert 'href="/events/feed/rss/"' in html and 'href="/events/feed/atom/"' in html


def test_the_site_chooses_theme_number_and_language(events):
    html = Client().get(f"{EMBED}?theme=cycling&lang=da").content.decode()
    assert _titles(html) == ["On bikes"] and '<html lang="da">' in html
    assert 'href="/events/?theme=cycling"' in html  # "all events" keeps the theme
    assert 'href="/events/calendar.ics?theme=cycling"' in html  # and so do the calendar
    assert 'href="/events/feed/rss/?theme=cycling"' in html
    assert 'href="/events/feed/atom/?theme=cycling"' in html
    assert len(_titles(Client().get(f"{EMBED}?limit=8").content.decode())) == 8
    for limit in ("0", "-3", "many", "9999"):  # never an error for what a site writes
        assert Client().get(f"{EMBED}?limit={limit}").status_code == 200


def test_any_site_may_frame_it_and_no_other_page(events):
    embedded = Client().get(EMBED)
    assert "X-Frame-Options" not in embedded
    assert "frame-ancestors *" in embedded["Content-Security-Policy"]
    page = Client().get("/events/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_the_public_calendar_holds_every_day_part_and_nothing_personal(events, member):
    from events.services import registrations

    registrations.register(member, events[-1].occasions.get())
    response = Client().get("/events/calendar.ics?theme=cycling")
    ics = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert ics.count("BEGIN:VEVENT") == 1 and "SUMMARY:On bikes" in ics
    assert events[-1].get_absolute_url() in ics
    assert member.email not in ics and "meet.example.org" not in ics and "ATTENDEE" not in ics
    everything = Client().get("/events/calendar.ics").content.decode()
    assert everything.count("BEGIN:VEVENT") == 8 and "Secret plans" not in everything


def test_the_public_calendar_says_where_each_occasion_is_and_never_its_meeting_link(events):
    in_aarhus = factories.event(title="In Aarhus", days_ahead=4, event_format=Event.Format.IN_PERSON)
    Occasion.objects.filter(event=in_aarhus).update(
        venue="Aarhus Rådhus", address="Rådhuspladsen 2\n8000 Aarhus C"
    )

    ics = Client().get("/events/calendar.ics").content
    where = {
        str(entry["SUMMARY"]): str(entry["LOCATION"])
        for entry in icalendar.Calendar.from_ical(ics).walk("VEVENT")
    }

    assert where["In Aarhus"] == "Aarhus Rådhus, Rådhuspladsen 2, 8000 Aarhus C"
    assert where["Meeting 0"] == where["On bikes"] == "Online"  # the fixture's online meetings
    assert b"meet.example.org" not in ics
