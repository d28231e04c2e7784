"""A participant evaluates from the follow-up email's link in Chromium, in Danish, signed out:
a missing rating is shown next to its group, the answer is saved and can be changed; axe finds
nothing on the form, with or without the error."""

from __future__ import annotations

import datetime as dt

import pytest

from events import evaluation_links
from events.models import AgendaItem, Evaluation
from events.services import registrations
from members.models import User
from tests import factories

from .conftest import Portal

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


def test_a_participant_evaluates_and_changes_the_answer(live_server, page, member):
    User.objects.filter(pk=member.pk).update(preferred_language="da")
    event = factories.event(title="Ladeinfrastruktur i praksis")
    talk = AgendaItem.objects.create(
        event=event,
        day_part=1,
        starts=dt.time(13),
        ends=dt.time(14),
        title="Ladehubs i Aarhus",
        kind="external_talk",
    )
    registration = registrations.register(member, event.occasions.get())
    factories.begun(registration.occasion)
    portal = Portal(live_server.url, page)
    page.goto(live_server.url + evaluation_links.evaluation_path(registration) + "?lang=da")
    assert page.locator("html").get_attribute("lang") == "da"
    page.fill("#id_take_home", "Start i det små")
    page.click("main form button[type=submit]")
    assert "Vælg en vurdering fra 1 til 5." in page.locator("main").inner_text()
    portal.assert_accessible()

    page.check("#id_rating_3")  # 4
    page.check(f"#id_item_{talk.pk}_4")  # 5
    page.fill("#id_theme_wish", "Ladcykler")
    page.click("main form button[type=submit]")
    assert "Tak for din evaluering." in page.locator("main").inner_text()
    portal.assert_accessible()

    page.check("#id_rating_4")
    page.click("main form button[type=submit]")
    evaluation = Evaluation.objects.get(registration=registration)
    assert (evaluation.rating, evaluation.take_home, evaluation.theme_wish) == (
        5,
        "Start i det små",
        "Ladcykler",
    )
    assert dict(evaluation.item_ratings.values_list("agenda_item_id", "rating")) == {talk.pk: 5}
