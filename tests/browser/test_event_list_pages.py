"""The event list's pages in Chromium: no axe-core violation on a middle page, and moving between
pages with JavaScript turned off keeps the filters."""

import pytest

from events.list_views import EVENTS_PER_PAGE
from events.models import Event
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


@pytest.fixture
def three_pages(db):
    for n in range(2 * EVENTS_PER_PAGE + 1):
        factories.event(title=f"Workshop no {n:03d}", days_ahead=10 + n, event_format=Event.Format.IN_PERSON)
    factories.event(title="Online elsewhere", days_ahead=5)


def test_a_middle_page_of_the_list_is_accessible(portal, three_pages):
    page = portal.open("/events/?format=in_person&page=2")
    assert page.get_by_role("link", name="Page 2").get_attribute("aria-current") == "page"
    portal.assert_accessible()


def test_the_pages_work_without_javascript_and_keep_the_filters(browser, live_server, three_pages):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/events/?format=in_person")
        page.get_by_role("link", name="Next page").click()
        page.wait_for_load_state()
        assert "format=in_person" in page.url and "page=2" in page.url
        assert "Page 2 of 3" in page.locator("main").inner_text()
        assert "Online elsewhere" not in page.content()
        page.get_by_role("link", name="Page 3").click()
        page.wait_for_load_state()
        assert page.locator("article.event-card").count() == 1
        assert "format=in_person" in page.url
    finally:
        context.close()


def test_the_embedded_list_is_accessible(portal, three_pages):
    page = portal.open("/embed/events/?lang=sv")
    assert page.locator("html").get_attribute("lang") == "sv"
    portal.assert_accessible()
