"""The message page's preview in a real Chromium, under the portal's Content-Security-Policy:
the email's HTML shows in its sandboxed frame with its layout (style attributes), and a script
in the organizer's text runs neither in the frame nor on the page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests import factories

from .conftest import Portal

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


def _sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])


def test_the_preview_shows_the_styled_email_and_runs_no_script(live_server, page, organizer):
    event = factories.event(title="Charging meeting")
    _sign_in(page, live_server.url, organizer)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if message.type == "error" else None)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(live_server.url + reverse("admin:events_event_message", args=[event.pk]))
    page.fill("#id_subject", "Bring a laptop")
    script = '<script>alert("page")</script><img src=x onerror=alert(1)>'
    page.fill("#id_body", f"Please bring **a laptop**. {script}")
    page.click("input[name=preview]")

    frame = page.frame_locator("iframe.message-preview-html")
    assert frame.locator("strong").inner_text() == "a laptop"
    # The layout's style attributes apply inside the frame (the page's policy allows them there).
    body = frame.locator("body")
    assert body.evaluate("body => getComputedStyle(body).backgroundColor") == "rgb(244, 246, 244)"
    assert "Please bring **a laptop**." in page.locator("pre.message-preview-text").inner_text()
    assert not dialogs
    Portal(live_server.url, page).assert_accessible()
    if os.environ.get("SCREENSHOTS"):  # the README's picture of the page, as in the organizer's guide
        page.set_viewport_size({"width": 1400, "height": 1100})
        page.screenshot(path=str(Path(os.environ["SCREENSHOTS"]) / "message-preview.png"), full_page=True)
    assert not [text for text in violations if "srcdoc" in text or "frame-src" in text], violations


def test_the_follow_up_preview_on_the_evaluations_page_is_styled_and_accessible(live_server, page, organizer):
    event = factories.event(title="Charging meeting")
    _sign_in(page, live_server.url, organizer)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if message.type == "error" else None)

    page.goto(live_server.url + reverse("admin:events_event_evaluations", args=[event.pk]))

    frame = page.frame_locator("iframe.message-preview-html")
    assert "Charging meeting" in frame.locator("body").inner_text()
    body = frame.locator("body")
    assert body.evaluate("body => getComputedStyle(body).backgroundColor") == "rgb(244, 246, 244)"
    assert (
        "Thank you for taking part in Charging meeting"
        in page.locator("pre.message-preview-text").inner_text()
    )
    Portal(live_server.url, page).assert_accessible()
    assert not [text for text in violations if "srcdoc" in text or "style-src" in text], violations
