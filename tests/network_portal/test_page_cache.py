"""Public pages from the shared cache (network_portal.page_cache): served without touching the
database to visitors without a session, anew as soon as anything on them changes, never to a
signed-in member, and with each visitor's own CSRF token."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.services import registrations
from network_portal import page_cache
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pages_cached(settings):
    settings.PAGE_CACHE_SECONDS = 300
    page_cache.cache.clear()


def _queries(client, path, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("path", ["/", "/events/", "event page"])
def test_a_second_visitor_gets_the_page_without_a_query(path):
    event = factories.event(title="Charging hubs")
    path = event.get_absolute_url() if path == "event page" else path
    first, page = _queries(Client(), path)
    assert first > 0 and "Charging hubs" in page
    again, cached = _queries(Client(), path)
    assert again == 0
    assert "Charging hubs" in cached


def test_seats_on_the_cached_page_change_with_a_registration(member, django_capture_on_commit_callbacks):
    event = factories.event(capacities=(3,))
    path = event.get_absolute_url()
    assert "3 of 3 seats left" in Client().get(path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        registrations.register(member, event.occasions.get())
    assert "2 of 3 seats left" in Client().get(path).content.decode()


def test_a_place_on_the_waiting_list_keeps_the_cached_pages(
    member, colleague, django_capture_on_commit_callbacks
):
    """Public pages show the seats left, which a place on the waiting list does not change: in a
    rush most registrations are such places, and the pages stay cached through them."""
    event = factories.event(capacities=(1,))
    path = event.get_absolute_url()
    with django_capture_on_commit_callbacks(execute=True):
        registrations.register(member, event.occasions.get())
    assert "Full" in Client().get(path).content.decode()
    version = page_cache.cache.get(page_cache.VERSION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = registrations.register(colleague, event.occasions.get())
    assert waiting.status == waiting.Status.WAITLISTED
    assert page_cache.cache.get(page_cache.VERSION_KEY) == version
    again, page = _queries(Client(), path)
    assert again == 0 and "Full" in page


def test_an_organizers_change_shows_at_once(django_capture_on_commit_callbacks):
    event = factories.event(title="Old title")
    path = event.get_absolute_url()
    Client().get(path)
    Client().get("/events/")
    with django_capture_on_commit_callbacks(execute=True):
        event.title = "New title"
        event.save()
    assert "New title" in Client().get(path).content.decode()
    assert "New title" in Client().get("/events/").content.decode()


def test_a_conditional_update_under_the_event_lock_shows_too(member, django_capture_on_commit_callbacks):
    """Services that write with QuerySet.update() send no signal; the lock they take does."""
    event = factories.event(capacities=(3,))
    registration = registrations.register(member, event.occasions.get())
    Client().get(event.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        registrations.cancel(registration, actor=member)
    assert "3 of 3 seats left" in Client().get(event.get_absolute_url()).content.decode()


def test_a_change_that_rolls_back_keeps_the_cached_page(member, django_capture_on_commit_callbacks):
    event = factories.event()
    Client().get(event.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=False):  # never committed
        event.title = "Rolled back"
        event.save()
    again, _ = _queries(Client(), event.get_absolute_url())
    assert again == 0


def test_a_signed_in_member_never_gets_the_shared_page_nor_fills_it(member):
    event = factories.event(capacities=(3,))
    registration = registrations.register(member, event.occasions.get())
    path = event.get_absolute_url()
    anonymous = Client().get(path).content.decode()
    signed_in = Client()
    signed_in.force_login(member)
    own = signed_in.get(path).content.decode()
    assert member.email not in anonymous and "Sign out" not in anonymous
    assert "Sign out" in own
    assert reverse_cancel(registration) in own
    # and what the member saw was not stored for the next visitor
    assert reverse_cancel(registration) not in Client().get(path).content.decode()


def reverse_cancel(registration) -> str:
    from django.urls import reverse

    return reverse("events:cancel", args=[registration.pk])


def test_a_visitor_with_a_session_or_a_message_gets_a_page_of_their_own():
    event = factories.event()
    path = event.get_absolute_url()
    Client().get(path)
    # Mark the stored page, to tell it from a page rendered for the visitor.
    key = f"public-page:testserver:en:{path}"
    version, _content, content_type = page_cache.cache.get(key)
    page_cache.cache.set(key, (version, b"the stored page", content_type))
    assert Client().get(path).content == b"the stored page"
    with_session = Client()
    with_session.cookies["sessionid"] = "something"
    assert event.title in with_session.get(path).content.decode()
    with_message = Client()
    with_message.cookies["messages"] = "something"
    assert event.title in with_message.get(path).content.decode()


def test_each_language_is_a_page_of_its_own():
    event = factories.event()
    path = event.get_absolute_url()
    danish = Client().get(path, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    swedish = Client().get(path, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert 'lang="da"' in danish and 'lang="sv"' in swedish
    queries, again = _queries(Client(), path, HTTP_ACCEPT_LANGUAGE="sv")
    assert queries == 0 and 'lang="sv"' in again


def test_every_visitor_gets_a_working_token_of_their_own():
    event = factories.event()
    path = event.get_absolute_url()
    tokens = []
    for _ in range(2):
        client = Client(enforce_csrf_checks=True)
        page = client.get(path).content.decode()
        assert page_cache.CSRF_PLACEHOLDER not in page
        token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        tokens.append(client.cookies["csrftoken"].value)
        response = client.post(
            "/i18n/setlang/", {"language": "sv", "next": path, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
    assert tokens[0] != tokens[1]


def test_a_page_lives_no_longer_than_until_its_registration_opens(monkeypatch):
    opens = timezone.now() + dt.timedelta(seconds=90)
    event = factories.event(opens_at=opens)
    stored = {}
    original = page_cache.cache.set

    def remember(key, value, timeout=None, **kwargs):
        stored[key] = timeout
        return original(key, value, timeout, **kwargs)

    monkeypatch.setattr(page_cache.cache, "set", remember)
    Client().get(event.get_absolute_url())
    Client().get("/events/")
    timeouts = [timeout for key, timeout in stored.items() if key.startswith("public-page:")]
    assert len(timeouts) == 2 and all(0 < timeout <= 90 for timeout in timeouts)


def test_the_cache_can_be_turned_off(settings):
    settings.PAGE_CACHE_SECONDS = 0
    event = factories.event()
    Client().get(event.get_absolute_url())
    assert _queries(Client(), event.get_absolute_url())[0] > 0


def test_the_list_is_cached_per_filter_and_page_but_not_for_made_up_parameters():
    factories.event(title="Charging hubs")
    Client().get("/events/?when=past&page=2")
    assert _queries(Client(), "/events/?when=past&page=2")[0] == 0
    Client().get("/events/?utm_source=x")
    assert _queries(Client(), "/events/?utm_source=x")[0] > 0
    # An email's link keeps its language in a session (EmailLinkLanguageMiddleware); the page
    # itself still comes from the cache.
    path = factories.event().get_absolute_url() + "?lang=da"
    Client().get(path)
    with CaptureQueriesContext(connection) as queries:
        Client().get(path)
    assert not [query for query in queries.captured_queries if "events_" in query["sql"]]


def test_pages_are_kept_apart_from_the_rate_limits():
    """Storing many pages culls pages only: the default cache holds the rate limits' counters."""
    event = factories.event()
    Client().get(event.get_absolute_url())
    key = next(key for key in page_cache.cache._cache if "public-page" in key)
    assert key and not [key for key in caches["default"]._cache if "public-page" in key]


def test_in_the_database_the_pages_have_a_table_of_their_own():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "true",
        "CACHE_URL": "dbcache://portal_cache",
        "DJANGO_SETTINGS_MODULE": "network_portal.settings",
    }
    code = (
        "from django.conf import settings as s; c = s.CACHES; "
        "print(c['default']['LOCATION'], c['pages']['LOCATION'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert out == ["portal_cache", "portal_cache_pages"]


def test_a_page_not_found_carries_a_real_token_not_the_placeholder():
    """The 404 page is rendered after the view raised, outside the stored page's rendering."""
    response = Client().get("/events/no-such-event/")
    assert response.status_code == 404
    assert page_cache.CSRF_PLACEHOLDER not in response.content.decode()
    assert 'name="csrfmiddlewaretoken" value="' in response.content.decode()


# ---------------------------------------------------------------------------------------------
# The shared parts of the event page for signed-in members: the event with its occasions and
# seats, and the rendered description and programme, come from the cache; the member's own
# registration, colleagues and organization's seats never do.


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_member_reads_the_event_from_the_shared_parts(member):
    event = factories.event(capacities=(3, 3))
    path = event.get_absolute_url()
    Client().get(path)  # any visitor's page fills the shared parts
    client = _signed_in(member)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path).content.decode()
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert event.title in page and "Choose a date to register" in page
    assert "events_event" not in tables and 'events_occasion" WHERE' not in tables
    assert "events_daypart" not in tables and "events_agendaitem" not in tables


def test_seats_and_the_members_own_panel_follow_a_registration(
    member, colleague, django_capture_on_commit_callbacks
):
    event = factories.event(capacities=(3,), quota=2)
    path = event.get_absolute_url()
    client = _signed_in(member)
    before = client.get(path).content.decode()
    assert "3 seats left" in before and "Your organization has 2 of 2 seats left" in before
    with django_capture_on_commit_callbacks(execute=True):
        registrations.register(colleague, event.occasions.get(), listed=True)
    after = client.get(path).content.decode()
    assert "2 seats left" in after and "Your organization has 1 of 2 seats left" in after
    assert "1 colleague from your organization has chosen this date" in after
    assert "Mette Aarhus" in after  # a listed colleague
    with django_capture_on_commit_callbacks(execute=True):
        own = registrations.register(member, event.occasions.get())
    mine = client.get(path).content.decode()
    assert reverse_cancel(own) in mine and "1 of 3 seats left" in mine
    assert "Seats left for Aarhus Kommune: 0 of 2." in mine
    # the colleague's page shows the colleague's own registration, not the member's
    theirs = _signed_in(colleague).get(path).content.decode()
    assert reverse_cancel(own) not in theirs and "Jens Kristensen" not in theirs


def test_an_unlisted_colleague_or_an_unverified_member_sees_no_names(
    member, colleague, django_capture_on_commit_callbacks
):
    event = factories.event(capacities=(5,))
    with django_capture_on_commit_callbacks(execute=True):
        registrations.register(colleague, event.occasions.get(), listed=False)
    assert "Mette Aarhus" not in _signed_in(member).get(event.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        registrations.cancel(colleague.registrations.get(), actor=colleague)
        registrations.register(colleague, event.occasions.get(), listed=True)
    member.organization_verified_at = None
    member.save()
    assert "Mette Aarhus" not in _signed_in(member).get(event.get_absolute_url()).content.decode()


def test_a_draft_an_organizer_previews_never_reaches_the_shared_parts(organizer, member):
    event = factories.event(title="Secret plans", status="draft")
    path = event.get_absolute_url()
    preview = _signed_in(organizer).get(path)
    assert preview.status_code == 200 and "Secret plans" in preview.content.decode()
    assert not [key for key in _stored_keys() if "secret-plans" in key]
    assert Client().get(path).status_code == 404
    assert _signed_in(member).get(path).status_code == 404


def _stored_keys() -> list[str]:
    store = page_cache.cache
    if hasattr(store, "_cache"):  # the local-memory cache of the tests
        return [str(key) for key in store._cache]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {store._table}")
        return [row[0] for row in cursor.fetchall()]
