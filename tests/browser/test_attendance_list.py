"""An organizer records attendance in Chromium, in Danish, without JavaScript of the portal's own:
the meeting tool's CSV ticks the online participants, a tick is added by hand for one who came
in person, one save records everyone; the page passes axe, also with the file's error shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from events.models import Registration
from events.services import registrations
from members.models import User
from tests import factories
from tests.conftest import make_member

from .conftest import Portal
from .test_message_preview import _sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


def test_attendance_from_the_meeting_tools_file_and_by_hand(live_server, page, organizer, aarhus, tmp_path):
    User.objects.filter(pk=organizer.pk).update(preferred_language="da")
    occasion = factories.event(title="Delebiler i praksis", capacities=(10,)).occasions.get()
    online, in_person, absent = (
        registrations.register(make_member(f"{name}@aarhus.dk", aarhus, full_name=name.title()), occasion)
        for name in ("anna", "bo", "carl")
    )
    factories.begun(occasion)
    portal = Portal(live_server.url, page)
    _sign_in(page, live_server.url, organizer)
    page.goto(live_server.url + reverse("admin:events_occasion_attendance", args=[occasion.pk]))
    assert page.locator("html").get_attribute("lang") == "da"

    not_a_list = tmp_path / "deltagere.xlsx"
    not_a_list.write_bytes(b"PK\x03\x04" + bytes(64))
    page.set_input_files("#id_participant_list", str(not_a_list))
    page.click("input[name=import]")
    assert "Dette er ikke en CSV-fil" in page.locator("#id_participant_list_error").inner_text()
    portal.assert_accessible()

    teams_file = tmp_path / "deltagere.csv"
    teams_file.write_bytes(("Navn\tE-mail\nAnna\tANNA@aarhus.dk\nGæst\tgaest@example.org\n").encode("utf-16"))
    page.set_input_files("#id_participant_list", str(teams_file))
    page.click("input[name=import]")
    assert page.is_checked(f"#attended-{online.pk}")
    assert not page.is_checked(f"#attended-{in_person.pk}")
    assert "gaest@example.org" in page.locator("details.not-found").inner_text()
    portal.assert_accessible()

    page.check(f"#attended-{in_person.pk}")
    page.click("input[name=save]")

    assert "Fremmøde gemt: 2 af 3 deltagere mødte." in page.locator(".messagelist").inner_text()
    marks = dict(Registration.objects.filter(occasion=occasion).values_list("pk", "attended"))
    assert marks == {online.pk: True, in_person.pk: True, absent.pk: False}
    assert page.is_checked(f"#attended-{online.pk}") and not page.is_checked(f"#attended-{absent.pk}")
    portal.assert_accessible()
