"""An edition's Markdown body is rendered and sanitized once, when it is saved; the web version
and the emails use the stored HTML."""

import importlib
from unittest import mock

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from events import markup
from newsletters.models import Edition
from newsletters.rendering import render_edition
from tests.admin_forms import form_data
from tests.newsletters.editions import make_edition, make_subscriber

HOSTILE = "**Bold** <script>alert(1)</script> [x](javascript:alert(1))"


def assert_sanitized(html: str) -> None:
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def test_saving_an_edition_stores_its_body_sanitized(db):
    edition = make_edition(body=HOSTILE)
    edition.refresh_from_db()
    assert_sanitized(edition.body_html)


def test_the_admin_change_form_updates_the_html(organizer_client):
    # The admin saves a draft with update_fields naming the content fields.
    edition = make_edition(body="Old")
    url = reverse("admin:newsletters_edition_change", args=[edition.pk])
    data = form_data(organizer_client.get(url), "edition_form")
    assert "body_html" not in data
    data["body"] = [HOSTILE]
    response = organizer_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    edition.refresh_from_db()
    assert_sanitized(edition.body_html)


def test_the_web_version_and_the_email_render_no_markdown(client, db):
    edition = make_edition(body=HOSTILE, status=Edition.Status.SENT, sent_at=timezone.now())
    subscriber = make_subscriber("reader@example.org")
    # render_markdown, wherever it was imported from, ends in the markdown library.
    with mock.patch.object(markup.markdown, "markdown", side_effect=AssertionError("rendered")) as convert:
        page = client.get(reverse("newsletters:edition", args=[edition.pk]))
        _subject, _text, html = render_edition(Edition.objects.get(pk=edition.pk), subscriber)
    convert.assert_not_called()
    assert page.status_code == 200
    assert_sanitized(page.text)
    assert_sanitized(html)


def test_the_data_migration_fills_the_html_of_existing_editions(db):
    migration = importlib.import_module("newsletters.migrations.0007_edition_body_html")
    edition = make_edition(body="Edition *text*")
    Edition.objects.update(body_html="")  # as the rows were before the field existed
    migration.fill_body_html(apps, None)
    edition.refresh_from_db()
    assert edition.body_html == markup.render_markdown("Edition *text*")
