"""The Network page in Chromium, in Swedish: its tables, bars and month chart pass axe, and so
does the page with a filter's error next to its field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from events.services import attendance, registrations
from members.models import User
from tests import factories
from tests.conftest import make_member

from .conftest import Portal
from .test_message_preview import _sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


def test_the_network_page_and_its_errors_are_accessible(live_server, page, organizer, aarhus, odense):
    User.objects.filter(pk=organizer.pk).update(preferred_language="sv")
    occasion = factories.event(title="Laddinfrastruktur", capacities=(10,)).occasions.get()
    came = registrations.register(make_member("anna@aarhus.dk", aarhus), occasion)
    registrations.register(make_member("ole@odense.dk", odense), occasion)
    factories.begun(occasion)
    attendance.record(occasion, {came.pk: True}, organizer=organizer)
    portal = Portal(live_server.url, page)
    _sign_in(page, live_server.url, organizer)

    page.goto(live_server.url + reverse("admin:events_registration_network"))

    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("#network-coverage").inner_text() == "Täckning"
    assert page.locator("svg.timeline-chart rect").count() >= 1
    portal.assert_accessible()

    page.fill("#id_start", "2026-05-01")
    page.fill("#id_end", "2026-04-01")
    page.click("form.network-filters input[type=submit]")
    assert "Periodens slut ligger före dess början." in page.locator("#id_end_error").inner_text()
    portal.assert_accessible()
