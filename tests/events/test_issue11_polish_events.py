"""Issue 11, defect 11: an occasion's place with its lines apart (page, text email, calendar),
the Danish date with its period, one badge style for themes, themes by their name in the
reader's language, and the programme's day headings."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from events.forms import EventFilterForm
from events.models import AgendaItem, Theme
from events.templatetags.occasions import weekday_date
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def event_in_copenhagen():
    event = factories.event(title="Netværksmøde")
    occasion = event.occasions.get()
    occasion.venue = "KL-huset"
    occasion.address = "Weidekampsgade 10\n2300 København S"
    occasion.save()
    return event


def test_the_event_page_puts_venue_and_address_lines_apart(client, event_in_copenhagen):
    response = client.get(event_in_copenhagen.get_absolute_url())
    assert "KL-huset<br>Weidekampsgade 10<br>2300 København S<br>" in response.text
    assert "KL-huset Weidekampsgade" not in response.text


def test_the_text_email_keeps_address_lines_apart(event_in_copenhagen):
    occasion = event_in_copenhagen.occasions.get()
    text = render_to_string(
        "emails/_occasion.txt",
        {"event": event_in_copenhagen, "occasion": occasion, "day_parts": occasion.day_parts.all()},
    )
    assert "KL-huset, Weidekampsgade 10, 2300 København S" in text
    assert "102300" not in text
    html = render_to_string(
        "emails/_occasion.html",
        {"event": event_in_copenhagen, "occasion": occasion, "day_parts": occasion.day_parts.all()},
    )
    assert "KL-huset<br>Weidekampsgade 10<br>2300 København S<br>" in html


def test_the_place_is_one_list_of_lines(event_in_copenhagen):
    occasion = event_in_copenhagen.occasions.get()
    occasion.address = "  Weidekampsgade 10 \n\n2300 København S\n"
    assert occasion.place_lines == ["KL-huset", "Weidekampsgade 10", "2300 København S"]


def test_the_danish_date_has_the_period_after_the_day_and_swedish_none(event_in_copenhagen):
    starts = event_in_copenhagen.occasions.get().day_parts.get().starts_at
    with translation.override("da"):
        danish = weekday_date(starts)
    with translation.override("sv"):
        swedish = weekday_date(starts)
    assert re.fullmatch(r"[a-zø]+dag den \d{1,2}\. [a-z]+ \d{4}", danish), danish
    assert re.fullmatch(r"[a-zö]+dag \d{1,2} [a-z]+ \d{4}", swedish), swedish


def test_the_danish_email_date_uses_it(event_in_copenhagen):
    occasion = event_in_copenhagen.occasions.get()
    with translation.override("da"):
        text = render_to_string(
            "emails/_occasion.txt",
            {"event": event_in_copenhagen, "occasion": occasion, "day_parts": occasion.day_parts.all()},
        )
    assert re.search(r"dag den \d{1,2}\. ", text), text


def test_every_theme_on_the_event_page_has_one_badge_style(client, event_in_copenhagen):
    other = Theme.objects.create(slug="cycling-x", name="Cycling", colour="#8a4b08")
    event_in_copenhagen.themes.add(other, event_in_copenhagen.main_theme)
    response = client.get(event_in_copenhagen.get_absolute_url())
    badges = re.findall(r'<a class="badge ([^"]*)" href="/events/themes/', response.text)
    assert len(badges) == 2  # the main theme once, though it is also among the others
    assert all(classes.startswith("theme-badge theme-") for classes in badges), badges
    assert "text-bg-light" not in " ".join(badges)


def test_themes_are_listed_by_their_name_in_the_readers_language():
    Theme.objects.all().delete()
    Theme.objects.create(
        slug="a-public", name="Public transport", name_da="Kollektiv transport", name_sv="Kollektivtrafik"
    )
    Theme.objects.create(slug="b-cycling", name="Cycling", name_da="Cykling", name_sv="Cykling")
    Theme.objects.create(slug="c-oresund", name="Øresund", name_da="Øresund", name_sv="Öresund")
    Theme.objects.create(slug="d-alands", name="Åland", name_da="Åland", name_sv="Åland")
    Theme.objects.create(slug="e-aero", name="Aero", name_da="Ærø", name_sv="Ärö")
    expected = {
        "en": ["Aero", "Åland", "Cycling", "Public transport", "Øresund"],
        "da": ["Cykling", "Kollektiv transport", "Ærø", "Øresund", "Åland"],
        "sv": ["Cykling", "Kollektivtrafik", "Åland", "Ärö", "Öresund"],
    }
    for language, names in expected.items():
        with translation.override(language):
            labels = [str(label) for value, label in EventFilterForm().fields["theme"].choices if value]
        assert labels == names, language


def test_the_programme_heads_each_day_part_with_its_number_of_all(client):
    event = factories.event(half_days=2)
    for number in (1, 2):
        AgendaItem.objects.create(
            event=event,
            day_part=number,
            title=f"Item {number}",
            starts="13:00",
            ends="14:00",
            kind="discussion",
        )
    response = client.get(event.get_absolute_url())
    assert "Day part 1/2" in response.text and "Day part 2/2" in response.text


def test_the_theme_page_lists_its_events_with_the_same_badge(client, event_in_copenhagen):
    response = client.get(reverse("events:theme", args=[event_in_copenhagen.main_theme.slug]))
    assert 'class="badge theme-badge theme-' in response.text
