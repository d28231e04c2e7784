"""Organizers' Markdown is rendered and sanitized once, when it is saved: the pages show the
stored HTML and render nothing themselves."""

import contextlib
import datetime as dt
import importlib
from unittest import mock

import pytest
from django.apps import apps
from django.urls import reverse

from events import markup
from events.models import Event, Series, Theme
from events.services import lifecycle
from tests import factories
from tests.admin_forms import form_data
from tests.events.event_pages import detail_page

pytestmark = pytest.mark.usefixtures("reference_organizations")

HOSTILE = "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"


def assert_sanitized(html: str) -> None:
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def _series(**fields) -> Series:
    return Series.objects.create(
        **{"title": "Green mobility", "slug": "green-mobility", "team": factories.organizer_team(), **fields}
    )


# --- saving ---------------------------------------------------------------------------------


def test_saving_an_event_stores_its_description_sanitized(db):
    event = factories.event()
    event.description = HOSTILE
    event.save()
    event.refresh_from_db()
    assert_sanitized(event.description_html)
    assert event.description == HOSTILE  # the source stays as written


def test_series_and_theme_store_their_description_sanitized(db):
    series = _series(description=HOSTILE)
    theme = factories.theme()
    theme.description = HOSTILE
    theme.save()
    for obj in (series, theme):
        obj.refresh_from_db()
        assert_sanitized(obj.description_html)


def test_editing_the_source_updates_the_html(db):
    event = factories.event()
    event.description = "First *version*"
    event.save()
    event.description = "Second **version**"
    event.save()
    event.refresh_from_db()
    assert "Second <strong>version</strong>" in event.description_html
    assert "First" not in event.description_html


def test_saving_only_the_source_field_saves_its_html_too(db):
    event = factories.event()
    event.description = "Named *in* update_fields"
    event.save(update_fields=["description"])
    event.refresh_from_db()
    assert "<em>in</em>" in event.description_html


def test_saving_other_fields_renders_nothing(db):
    event = factories.event()
    with mock.patch.object(markup, "render_markdown", wraps=markup.render_markdown) as render:
        event.save(update_fields=["title"])
    render.assert_not_called()


def test_update_or_create_as_the_demo_seeder_uses_it_updates_the_html(db):
    _series(description="Old")
    Series.objects.update_or_create(slug="green-mobility", defaults={"description": "New *text*"})
    assert "<em>text</em>" in Series.objects.get(slug="green-mobility").description_html


def test_a_copied_event_has_the_html_of_its_description(db, organizer):
    event = factories.event()
    event.description = "The **same** text"
    event.save()
    copy = lifecycle.copy_event(event, shift=dt.timedelta(days=7), organizer=organizer)
    copy.refresh_from_db()
    assert "<strong>same</strong>" in copy.description_html


def test_the_html_is_not_a_field_of_the_admin_forms(organizer_client):
    event = factories.event()
    page = organizer_client.get(reverse("admin:events_event_change", args=[event.pk]))
    data = form_data(page, "event_form")
    assert "description" in data and "description_html" not in data
    series = _series()
    page = organizer_client.get(reverse("admin:events_series_change", args=[series.pk]))
    assert "description_html" not in form_data(page, "series_form")


def test_the_admin_change_form_updates_the_html(organizer_client):
    event = factories.event()
    url = reverse("admin:events_event_change", args=[event.pk])
    data = form_data(organizer_client.get(url), "event_form")
    data["description"] = [HOSTILE]
    response = organizer_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert_sanitized(event.description_html)


def test_the_series_admin_change_form_updates_the_html(organizer_client):
    series = _series(description="Old")
    url = reverse("admin:events_series_change", args=[series.pk])
    data = form_data(organizer_client.get(url), "series_form")
    data["description"] = ["New **text**"]
    response = organizer_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    series.refresh_from_db()
    assert "<strong>text</strong>" in series.description_html


# --- pages ----------------------------------------------------------------------------------


@contextlib.contextmanager
def no_rendering():
    """Fails if anything renders Markdown or sanitizes HTML inside: render_markdown, wherever it
    was imported from, ends in the markdown and nh3 libraries."""
    with (
        mock.patch.object(markup, "render_markdown", side_effect=AssertionError("rendered")) as render,
        mock.patch.object(markup.markdown, "markdown", side_effect=AssertionError("rendered")) as convert,
        mock.patch.object(markup.nh3, "clean", side_effect=AssertionError("sanitized")) as clean,
    ):
        yield
    render.assert_not_called()
    convert.assert_not_called()
    clean.assert_not_called()


def test_the_event_page_shows_the_stored_html_without_rendering(client, db):
    event = factories.event()
    event.description = HOSTILE
    event.save()
    with no_rendering():
        page = client.get(detail_page(event))
    assert page.status_code == 200
    assert_sanitized(page.text)


def test_event_series_and_theme_pages_render_no_markdown(client, db):
    series = _series(description=HOSTILE)
    event = factories.event()
    event.description = HOSTILE
    event.series = series
    event.save()
    theme = event.main_theme
    theme.description = HOSTILE
    theme.save()
    urls = [detail_page(event), series.get_absolute_url(), theme.get_absolute_url()]
    with no_rendering():
        pages = [client.get(url) for url in urls]
    for page in pages:
        assert page.status_code == 200
        assert_sanitized(page.text)


def test_the_event_page_shows_what_is_stored(client, db):
    event = factories.event()
    Event.objects.filter(pk=event.pk).update(description_html="<p>stored</p>")
    with no_rendering():
        assert "<p>stored</p>" in client.get(detail_page(event)).text


# --- existing rows --------------------------------------------------------------------------


def test_the_data_migration_fills_the_html_of_existing_rows(db):
    migration = importlib.import_module("events.migrations.0012_stored_markdown_html")
    series = _series(description="Series *text*")
    event = factories.event()
    event.description = "Event *text*"
    event.save()
    theme = factories.theme()
    theme.description = "Theme *text*"
    theme.save()
    for model in (Series, Event, Theme):
        model.objects.update(description_html="")  # as the rows were before the field existed

    migration.fill_description_html(apps, None)

    for obj, word in ((series, "Series"), (event, "Event"), (theme, "Theme")):
        obj.refresh_from_db()
        assert obj.description_html == markup.render_markdown(f"{word} *text*")
