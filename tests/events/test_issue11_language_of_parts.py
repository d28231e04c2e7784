"""Issue 11, defect 5 (WCAG 3.1.2 language of parts): text written in another language than the
page's carries its own lang, so that a screen reader reads Danish event text on a Swedish page
with Danish pronunciation. The effective language of a piece of text is the lang of its nearest
ancestor that has one, as browsers and screen readers work it out."""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.utils import timezone

from events.models import AgendaItem, Series
from newsletters.models import Edition
from tests import factories

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Languages(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str]] = []

    def _current(self) -> str:
        return next((lang for _, lang in reversed(self.stack) if lang is not None), "")

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        # The document title mixes the event's title with the portal's name; it is the page's.
        if data.strip() and not any(tag == "title" for tag, _ in self.stack):
            self.texts.append((data.strip(), self._current()))


def language_of(html: str, text: str) -> set[str]:
    """The effective languages of every piece of text in the page that contains `text`."""
    parser = _Languages()
    parser.feed(html)
    found = {lang for data, lang in parser.texts if text in data}
    assert found, f"{text!r} not in the page"
    return found


def _get(client, path: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def danish_event(db):
    series = Series.objects.create(
        title="Netværk for grøn mobilitet",
        slug="netvaerk",
        description="Kommunernes netværk om grøn transport.",
        language="da",
    )
    event = factories.event(title="Udrulning af ladeinfrastruktur")
    event.language = "da"
    event.summary = "Erfaringer fra kommunerne med offentlig ladning."
    event.description = "Vi ser på **ladestandere** i byrummet."
    event.series = series
    event.save()
    AgendaItem.objects.create(
        event=event,
        title="Velkomst og kaffe",
        description="Dagens program gennemgås.",
        kind=AgendaItem.Kind.values[0],
        starts=dt.time(13, 0),
        ends=dt.time(13, 30),
    )
    return event


def test_danish_event_text_on_a_swedish_page_is_marked_danish(client, danish_event):
    html = _get(client, danish_event.get_absolute_url(), "sv")

    assert '<html lang="sv">' in html
    for text in (
        "Udrulning af ladeinfrastruktur",
        "Erfaringer fra kommunerne",
        "ladestandere",
        "Velkomst og kaffe",
        "Dagens program gennemgås.",
        "Netværk for grøn mobilitet",
    ):
        assert language_of(html, text) == {"da"}, text
    # The portal's own words around it stay Swedish.
    assert language_of(html, "Program") == {"sv"}


def test_event_cards_on_the_list_mark_title_and_summary(client, danish_event):
    html = _get(client, "/events/", "sv")

    assert language_of(html, "Udrulning af ladeinfrastruktur") == {"da"}
    assert language_of(html, "Erfaringer fra kommunerne") == {"da"}


def test_series_page_marks_its_title_and_description(client, danish_event):
    html = _get(client, danish_event.series.get_absolute_url(), "en")

    assert language_of(html, "Kommunernes netværk om grøn transport.") == {"da"}
    assert "da" in language_of(html, "Netværk for grøn mobilitet")


def test_a_danish_newsletter_edition_in_the_swedish_archive_is_marked_danish(client, db):
    edition = Edition.objects.create(
        subject="Nyhedsbrev om cykling",
        preheader="Ladecykler og ny håndbog",
        body="Kære læser,\n\nCykelsæsonen åbner.",
        language="da",
        include_upcoming_events=False,
        status=Edition.Status.SENT,
        sent_at=timezone.now(),
    )

    page = _get(client, edition.get_absolute_url(), "sv")
    assert language_of(page, "Cykelsæsonen åbner.") == {"da"}
    assert "da" in language_of(page, "Nyhedsbrev om cykling")

    archive = _get(client, "/newsletter/archive/", "sv")
    assert language_of(archive, "Nyhedsbrev om cykling") == {"da"}
    assert language_of(archive, "Ladecykler og ny håndbog") == {"da"}


def test_new_series_and_editions_default_to_the_sites_language(db, settings):
    settings.LANGUAGE_CODE = "sv"
    assert Series(title="x", slug="x").language == "sv"
    assert Edition(subject="x", body="y").language == "sv"
