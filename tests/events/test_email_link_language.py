"""The pages an event email links to open in the email's language, not the browser's (issue 11,
defect 6): a Swedish member who opens the link of a confirmation in a browser set to English,
not signed in, reads the event page in Swedish."""

import re

import pytest
from django.test import Client
from django.utils import translation

from tests import factories
from tests.events.notified import only_mail_to, register_for

pytestmark = pytest.mark.usefixtures("reference_organizations")

HTML_LANG = re.compile(r'<html lang="(\w+)">')


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture(autouse=True)
def _no_language_left_over():
    # A page request activates its language for the thread; later tests expect the default.
    yield
    translation.deactivate()


def _links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_links_in_a_registration_email_carry_the_members_language(member, _send_on_commit):
    member.preferred_language = "sv"
    member.save()
    event = factories.event(title="Workshop")
    register_for(member, event.occasions.get(), _send_on_commit)

    message = only_mail_to(member)
    event_links = [link for link in _links(message.body) if event.get_absolute_url() in link]
    assert event_links and all(link.endswith("?lang=sv") for link in event_links)

    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(re.sub(r"^https?://[^/]+", "", event_links[0]))
    assert page.status_code == 200
    assert HTML_LANG.search(page.text).group(1) == "sv"


def test_a_danish_members_links_say_danish(member, _send_on_commit):
    member.preferred_language = "da"
    member.save()
    event = factories.event(title="Møde")
    register_for(member, event.occasions.get(), _send_on_commit)
    assert "?lang=da" in only_mail_to(member).body
