"""Error pages in the portal's layout and the visitor's language, each with a way back; the 500
page without the database (issue 11, defect 3). Tests run with DEBUG off, as in production."""

import re

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

from network_portal import errors
from tests.conftest import make_member
from tests.factories import event as make_event

LANGUAGES = ("en", "da", "sv")
HOME = {"en": "Home", "da": "Forside", "sv": "Startsida"}
TEST_URLS = "tests.network_portal.issue11_error_urls"


def _assert_portal_error_page(response, status, language):
    assert response.status_code == status
    assert not settings.DEBUG
    text = response.text
    assert re.search(rf'<html lang="{language}">', text), text[:300]
    assert response.headers["Content-Language"] == language
    # The portal's layout: its name, its navigation in the visitor's language, its footer.
    assert f'class="site-name" href="/">{settings.NETWORK_NAME}</a>' in text
    assert f">{HOME[language]}</a>" in text
    assert 'class="site-footer"' in text
    title, explanation = errors.PAGES[status]
    with translation.override(language):
        assert f"<h1>{title}</h1>" in text
        assert str(explanation) in text
        # A way back.
        assert f'href="{reverse("home")}">{translation.gettext("Back to the home page")}</a>' in text
    assert "Not Found" not in text and "Forbidden" not in text and "Server Error" not in text


def _browser(language, **kwargs):
    return Client(HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False, **kwargs)


@pytest.mark.parametrize("language", LANGUAGES)
def test_404_is_the_portals_page_in_the_visitors_language(db, language):
    response = _browser(language).get("/no-such-page/")
    _assert_portal_error_page(response, 404, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_400_for_a_refused_request_is_the_portals_page(db, language):
    # A NUL character is refused before the locale middleware runs (network_portal.middleware).
    response = _browser(language).get("/events/", {"q": "a\x00b"})
    _assert_portal_error_page(response, 400, language)


@pytest.mark.parametrize("language", LANGUAGES)
@override_settings(ROOT_URLCONF=TEST_URLS)
def test_400_from_a_view_is_the_portals_page(db, language):
    _assert_portal_error_page(_browser(language).get("/test-errors/400/"), 400, language)


@pytest.mark.parametrize("language", LANGUAGES)
@override_settings(ROOT_URLCONF=TEST_URLS)
def test_403_is_the_portals_page(db, language):
    _assert_portal_error_page(_browser(language).get("/test-errors/403/"), 403, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_organization_seats_page_refuses_with_the_portals_403(client, aarhus, language):
    # A member who is no coordinator has no colleagues to register: the page refuses.
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    event = make_event()
    client.force_login(member)
    response = client.get(reverse("events:organization_seats", args=[event.slug]))
    _assert_portal_error_page(response, 403, language)
    assert "Signed in as" in response.text or member.full_name in response.text


@pytest.mark.parametrize("language", LANGUAGES)
@override_settings(ROOT_URLCONF=TEST_URLS)
def test_500_is_the_portals_page_without_the_database(language):
    # No `db` fixture: pytest-django refuses every query, so a page that reads the session,
    # the member or anything else from the database fails this test.
    response = _browser(language).get("/test-errors/500/")
    _assert_portal_error_page(response, 500, language)


def test_500_handler_renders_while_every_database_query_fails(db, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the 500 page queried the database")

    request = RequestFactory(HTTP_ACCEPT_LANGUAGE="sv").get("/events/")
    with monkeypatch.context() as patch:
        for connection in connections.all():
            patch.setattr(connection, "cursor", refuse)
        response = errors.server_error(request)
    assert response.status_code == 500
    assert '<html lang="sv">' in response.content.decode()


def test_500_page_keeps_a_working_language_switch(db):
    response = _browser("da").get("/no-such-page/")
    assert 'name="csrfmiddlewaretoken"' in response.text
    with override_settings(ROOT_URLCONF=TEST_URLS):
        failed = _browser("da").get("/test-errors/500/")
    assert 'name="csrfmiddlewaretoken"' in failed.text
    assert 'action="/i18n/setlang/"' in failed.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_form_gets_the_portals_403_page(db, language):
    browser = _browser(language, enforce_csrf_checks=True)
    response = browser.post(reverse("set_language"), {"language": language})
    assert response.status_code == 403
    assert f'<html lang="{language}">' in response.text
    title, explanation = errors.FORM_EXPIRED
    with translation.override(language):
        assert f"<h1>{title}</h1>" in response.text
    assert "CSRF verification failed" not in response.text


def test_400_for_an_unknown_host_is_the_portals_page(db):
    response = _browser("sv").get("/", HTTP_HOST="evil.example.org")
    _assert_portal_error_page(response, 400, "sv")
