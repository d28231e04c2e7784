"""The README's pictures of the member's side (only with SCREENSHOTS=<folder>): the event list,
the Swedish workshop's page with its date buttons and the newsletter sign-up, as a county
board's planner sees them, at 1200 px, full length."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from events.models import Event
from members.models import User

pytestmark = pytest.mark.skipif(
    not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=docs/screenshots to write them"
)


def test_screenshots_of_the_members_side(portal):
    folder = Path(os.environ["SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    member = User.objects.get(email="planerare.skane@lansstyrelsen.se")
    client = Client()
    client.force_login(member)
    portal.page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": portal.url,
            }
        ]
    )
    page = portal.page
    page.set_viewport_size({"width": 1200, "height": 900})
    portal.open("/events/")
    page.screenshot(path=folder / "event-list.png", full_page=True)
    workshop = Event.objects.get(slug="workshop-klimatsmarta-lanstransportplaner")
    portal.open(workshop.get_absolute_url())
    page.screenshot(path=folder / "event-detail.png", full_page=True)
    portal.open("/newsletter/")
    page.screenshot(path=folder / "newsletter.png", full_page=True)
