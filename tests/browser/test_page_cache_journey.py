"""Public pages from the cache in Chromium: the stored page's forms carry each visitor's own
token, and a registration shows at once to the next visitor."""

import pytest

from events.services import registrations
from network_portal import page_cache
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


@pytest.fixture
def cached_pages(settings):
    settings.PAGE_CACHE_SECONDS = 300
    page_cache.cache.clear()
    yield
    page_cache.cache.clear()


def _visit(browser, url: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    return context, page


def test_a_stored_page_switches_language_and_shows_a_new_registration(
    browser, live_server, cached_pages, member
):
    event = factories.event(title="Charging hubs", capacities=(3,))
    url = live_server.url + event.get_absolute_url()
    first, _ = _visit(browser, url)  # fills the cache
    second, page = _visit(browser, url)  # gets the stored page
    try:
        assert "3 of 3 seats left" in page.locator("main").inner_text()
        page.select_option("#language-select", "da")
        page.locator("form.language-switcher button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "da"  # the stored form's token was accepted

        registrations.register(member, event.occasions.get())  # commits: the pages get a new version
        third, fresh = _visit(browser, url)
        assert "2 of 3 seats left" in fresh.locator("main").inner_text()
        third.close()
    finally:
        first.close()
        second.close()
