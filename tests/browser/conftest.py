import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail

from tests.conftest import CONFIRM_LINK

LOGIN_CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def portal(live_server, page):
    """The live portal in Chromium, with helpers for what a person does there."""
    return Portal(live_server.url, page)


class Portal:
    def __init__(self, base_url: str, page):
        self.url = base_url
        self.page = page

    def open(self, path: str = "/"):
        self.page.goto(self.url + path)
        return self.page

    def switch_language(self, code: str) -> None:
        self.page.select_option("#language-select", code)
        self.page.locator("form.language-switcher button[type=submit]").click()
        self.page.wait_for_load_state()
        assert self.page.locator("html").get_attribute("lang") == code

    def last_mail_to(self, email: str):
        messages = [message for message in mail.outbox if email in message.to]
        assert messages, f"no message to {email}"
        return messages[-1]

    def confirmation_link(self, email: str) -> str:
        return CONFIRM_LINK.search(self.last_mail_to(email).body).group(1)

    def login_code(self, email: str) -> str:
        return LOGIN_CODE.search(self.last_mail_to(email).body).group(1)

    def assert_accessible(self) -> None:
        results = Axe().run(self.page)
        assert results.violations_count == 0, results.generate_report()
