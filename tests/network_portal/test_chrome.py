"""The parts around every page's content (network_portal.chrome): rendered once per process for
each language, sign-in state and section, with the member's name, the page's address and the
CSRF token filled in for each request, escaped."""

import re

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse

from network_portal import chrome
from tests import factories

pytestmark = pytest.mark.django_db


def _rendered_templates(client, path) -> tuple[str, list[str]]:
    names = []

    def record(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    try:
        page = client.get(path).content.decode()
    finally:
        template_rendered.disconnect(record)
    return page, names


def test_the_parts_are_rendered_once_then_filled_in_for_each_member(member, colleague):
    chrome._rendered.cache_clear()
    first, second = Client(), Client()
    first.force_login(member)
    second.force_login(colleague)
    page, rendered = _rendered_templates(first, "/accessibility/")
    assert "Signed in as Jens Kristensen" in page
    assert {"chrome/head.html", "chrome/header.html", "chrome/footer.html"} <= set(rendered)
    again, rendered_again = _rendered_templates(second, "/accessibility/")
    assert "Signed in as Mette Aarhus" in again and "Jens Kristensen" not in again
    assert not [name for name in rendered_again if name.startswith("chrome/")]


def test_the_name_and_the_address_are_escaped(member):
    member.full_name = '<script>alert("name")</script>'
    member.save()
    client = Client()
    client.force_login(member)
    page = client.get("/events/", QUERY_STRING="q=\"><script>alert(1)</script>&x=a'b").content.decode()
    assert "<script>alert" not in page
    assert "Signed in as &lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;" in page
    assert 'name="next" value="/events/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&amp;x=a&#x27;b"' in page


def test_each_form_in_the_header_carries_a_working_token(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    page = client.get("/accessibility/").content.decode()
    tokens = set(_tokens(page))
    assert len(_tokens(page)) == 2 and "csrfPlaceholderForTheVisitorsOwnToken" not in page
    token = tokens.pop()
    response = client.post("/i18n/setlang/", {"language": "da", "next": "/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    signed_out = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert signed_out.status_code == 302 and "_auth_user_id" not in client.session


def _tokens(page: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)


@pytest.mark.parametrize(
    ("page", "current"),
    [
        ("home", "home"),
        ("events:list", "events:list"),
        ("event page", "events:list"),
        ("events:my_registrations", "events:my_registrations"),
        ("newsletters:subscribe", "newsletters:subscribe"),
        ("members:profile", "members:profile"),
        ("accessibility", None),
    ],
)
def test_the_current_section_is_marked(member, page, current):
    client = Client()
    client.force_login(member)
    path = factories.event().get_absolute_url() if page == "event page" else reverse(page)
    marked = _hrefs_with_current(client.get(path).content.decode())
    assert marked == ([reverse(current)] if current else []), marked


def _hrefs_with_current(page: str) -> list[str]:
    return re.findall(r'<a class="nav-link" href="([^"]+)" aria-current="page"', page)


def test_staff_see_the_administration_link_members_do_not(member, organizer):
    client = Client()
    client.force_login(member)
    assert 'href="/admin/"' not in client.get("/").content.decode()
    client.force_login(organizer)
    assert 'href="/admin/"' in client.get("/").content.decode()
