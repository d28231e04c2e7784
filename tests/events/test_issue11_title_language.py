"""Issue 11, defect 5 leftovers (WCAG 3.1.2): a Danish event's title on a member's pages and in
the emails sent in another language carries lang="da" of its own."""

import pytest
from django.conf import settings
from django.urls import reverse

from events.services import registrations
from tests.events.notified import only_mail_to, register_for
from tests.events.test_issue11_language_of_parts import danish_event, language_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("reference_organizations")

TITLE = "Udrulning af ladeinfrastruktur"


def _get(client, path: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_my_registrations_and_the_cancel_page_mark_a_danish_title(client, member, danish_event):  # noqa: F811
    member.preferred_language = "sv"
    member.save(update_fields=["preferred_language"])
    registration = registrations.register(member, danish_event.occasions.get())
    client.force_login(member)

    html = _get(client, reverse("events:my_registrations"), "sv")
    assert '<html lang="sv">' in html
    assert language_of(html, TITLE) == {"da"}
    assert language_of(html, "Mina anmälningar") == {"sv"}

    html = _get(client, reverse("events:cancel", args=[registration.pk]), "sv")
    assert language_of(html, TITLE) == {"da"}
    assert language_of(html, member.full_name) == {"sv"}


def test_the_coordinators_page_marks_a_danish_title(client, member, colleague, danish_event):  # noqa: F811
    member.is_organization_coordinator = True
    member.save(update_fields=["is_organization_coordinator"])
    client.force_login(member)
    html = _get(client, reverse("events:organization_seats", args=[danish_event.slug]), "en")
    assert language_of(html, TITLE) == {"da"}


def test_the_confirmation_email_in_swedish_marks_a_danish_title(
    member,
    danish_event,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    member.preferred_language = "sv"
    member.save(update_fields=["preferred_language"])
    register_for(member, danish_event.occasions.get(), django_capture_on_commit_callbacks)

    message = only_mail_to(member)
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    assert '<html lang="sv">' in html
    assert language_of(html, TITLE) == {"da"}
