"""Attendance per occasion: recorded from the day of the occasion by its organizers, for
confirmed participants only, from an on-screen list saved at once or from the online meeting
tool's participant list matched by email."""

import codecs
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import ERROR, INFO, SUCCESS, WARNING
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events import attendance_import
from events.errors import RegistrationError
from events.models import Occasion, Registration, RegistrationLog
from events.services import attendance, registrations
from tests import factories
from tests.conftest import make_member
from tests.events.admin_pages import messages_of, other_team_organizer, registrations_url, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")
Action = RegistrationLog.Action


def attendance_url(occasion) -> str:
    return reverse("admin:events_occasion_attendance", args=[occasion.pk])


@pytest.fixture
def held(member, colleague, other_member):
    """An occasion that began an hour ago: two confirmed participants, one waiting."""
    occasion = factories.event(capacities=(2,)).occasions.get()
    first = registrations.register(member, occasion)
    second = registrations.register(other_member, occasion)
    waiting = registrations.register(colleague, occasion)
    assert waiting.status == Registration.Status.WAITLISTED
    return factories.begun(occasion), first, second, waiting


def ticks(html: str) -> dict[int, bool]:
    """The attendance checkboxes of a page: registration id → ticked."""
    boxes = re.findall(r'<input type="checkbox" name="attended" value="(\d+)"([^>]*)>', html)
    return {int(pk): " checked" in rest for pk, rest in boxes}


def attended(*registrations_) -> list:
    return [Registration.objects.get(pk=registration.pk).attended for registration in registrations_]


# --- the service ---------------------------------------------------------------------------------


def test_one_save_records_attended_and_absent_and_logs_only_what_changed(organizer, held):
    occasion, first, second, _ = held

    recorded = attendance.record(occasion, {first.pk: True, second.pk: False}, organizer=organizer)

    assert recorded == attendance.Recorded(changed=2, left=0)
    assert attended(first, second) == [True, False]
    again = attendance.record(occasion, {first.pk: True, second.pk: True}, organizer=organizer)
    assert again.changed == 1
    details = RegistrationLog.objects.filter(action=Action.ATTENDANCE, actor=organizer).order_by("pk")
    assert [(log.registration_id, log.detail) for log in details] == [
        (first.pk, "yes"),
        (second.pk, "no"),
        (second.pk, "yes"),
    ]


def test_attendance_waits_for_the_day_of_the_occasion(organizer, member):
    occasion = factories.event(days_ahead=10).occasions.get()
    registration = registrations.register(member, occasion)

    with pytest.raises(RegistrationError) as refused:
        attendance.record(occasion, {registration.pk: True}, organizer=organizer)

    assert refused.value.code == "not_begun"
    assert attended(registration) == [None]
    # From the morning of its day on, before it starts: people are ticked off at the door.
    morning = occasion.starts_at.replace(hour=7)
    assert attendance.record(occasion, {registration.pk: True}, organizer=organizer, at=morning).changed == 1


def test_only_confirmed_participants_have_attendance(organizer, held):
    occasion, first, _, waiting = held

    recorded = attendance.record(occasion, {first.pk: True, waiting.pk: True}, organizer=organizer)

    assert recorded == attendance.Recorded(changed=1, left=1)
    assert attended(first, waiting) == [True, None]
    with pytest.raises(RegistrationError) as refused:
        attendance.record_one(waiting, True, organizer=organizer)
    assert refused.value.code == "not_confirmed"


def test_registrations_of_another_occasion_are_left_alone(organizer, member, colleague):
    event = factories.event(capacities=(5, 5))
    first_occasion, second_occasion = event.occasions.order_by("starts_at")
    here = registrations.register(member, first_occasion)
    there = registrations.register(colleague, second_occasion)
    factories.begun(first_occasion)

    recorded = attendance.record(first_occasion, {here.pk: True, there.pk: True}, organizer=organizer)

    assert recorded.left == 1
    assert attended(here, there) == [True, None]


def test_only_the_events_organizers_record_attendance(organizer, held):
    occasion, first, _, _ = held
    outsider = other_team_organizer(organizer)

    with pytest.raises(RegistrationError) as refused:
        attendance.record(occasion, {first.pk: True}, organizer=outsider)

    assert refused.value.code == "forbidden"
    assert attended(first) == [None]


def test_the_admin_action_obeys_the_same_rules(organizer_client, member):
    occasion = factories.event(days_ahead=10).occasions.get()
    registration = registrations.register(member, occasion)

    response = run_action(organizer_client, registrations_url(), "mark_attended", [registration])

    assert attended(registration) == [None]
    assert any(
        level == WARNING and "from the day of the occasion" in text for level, text in messages_of(response)
    )


# --- reading the meeting tool's participant list --------------------------------------------------

TEAMS = (
    "1. Summary\n"
    "Meeting title\tLadeinfrastruktur i praksis\n"
    "2. Participants\n"
    "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole\n"
    "Anna Berg\t3/12/26, 9:58:02 AM\t3/12/26, 12:01:10 PM\t2h 3m\t"
    "Anna.Berg@Aarhus.dk\tanna.berg@aarhus.dk\tAttendee\n"
    "Ole Ærø\t3/12/26, 10:02:00 AM\t3/12/26, 11:40:00 AM\t1h 38m\tole@odense.dk\tole@odense.dk\tAttendee\n"
)

ZOOM = (
    "Meeting ID,Topic,Start Time,Host email\n"
    '812 3456,"Laddinfrastruktur, workshop",03/12/2026 09:55:12 AM,host@kl.dk\n'
    "\n"
    "Name (original name),Email,Join time,Leave time,Duration (minutes),Guest\n"
    '"Berg, Anna",anna.berg@aarhus.dk,03/12/2026 09:58 AM,03/12/2026 12:01 PM,123,No\n'
)


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + TEAMS.encode("utf-16-le"),
        TEAMS.encode("utf-16-le"),
        codecs.BOM_UTF8 + TEAMS.encode(),
        TEAMS.encode("cp1252"),
    ],
    ids=["utf-16 with BOM (Teams)", "utf-16 without BOM", "utf-8 with BOM", "Windows code page"],
)
def test_addresses_are_read_whatever_the_encoding(data):
    assert attendance_import.addresses_in(data) == {"anna.berg@aarhus.dk", "ole@odense.dk"}


def test_addresses_are_read_from_a_list_with_meeting_details_above_it():
    assert attendance_import.addresses_in(ZOOM.encode()) == {"host@kl.dk", "anna.berg@aarhus.dk"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "not_text"),
        (b"%PDF-1.7 anna@aarhus.dk", "not_text"),
        (b"Name,Duration\nAnna Berg,123\n", "no_addresses"),
        (b"a@b.dk," * (attendance_import.MAX_BYTES // 7 + 1), "too_large"),
    ],
    ids=["spreadsheet", "pdf", "no addresses", "too large"],
)
def test_a_file_that_is_not_a_participant_list_is_refused(data, code):
    with pytest.raises(attendance_import.UnreadableList) as refused:
        attendance_import.addresses_in(data)
    assert refused.value.code == code


# --- the attendance page -------------------------------------------------------------------------


def test_the_page_lists_confirmed_participants_with_a_checkbox_each(organizer_client, organizer, held):
    occasion, first, second, waiting = held
    attendance.record_one(first, True, organizer=organizer)

    response = organizer_client.get(attendance_url(occasion))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<tr class="participant">') == 2
    assert waiting.user.email not in html
    assert ticks(html) == {first.pk: True, second.pk: False}
    assert f'aria-labelledby="attended-heading participant-{first.pk}"' in html
    assert 'name="save"' in html


def test_one_save_marks_the_ticked_present_and_the_others_absent(organizer_client, organizer, held):
    occasion, first, second, _ = held

    response = organizer_client.post(
        attendance_url(occasion),
        {"shown": [first.pk, second.pk], "attended": [second.pk], "save": "1"},
        follow=True,
    )

    assert attended(first, second) == [False, True]
    assert (SUCCESS, "Attendance saved: 1 of 2 participants attended.") in messages_of(response)
    assert LogEntry.objects.filter(object_id=str(occasion.pk), user=organizer).count() == 1


def test_a_participant_confirmed_after_the_page_was_opened_is_not_marked_absent(organizer_client, held):
    occasion, first, second, waiting = held
    # The waiting member got a seat while the organizer ticked the list: not on the page they
    # saw, so not in their save either.
    Occasion.objects.filter(pk=occasion.pk).update(capacity=3)
    registrations.promote_waitlist(occasion.event)
    assert Registration.objects.get(pk=waiting.pk).status == Registration.Status.CONFIRMED

    organizer_client.post(
        attendance_url(occasion), {"shown": [first.pk, second.pk], "attended": [first.pk], "save": "1"}
    )

    assert attended(first, second, waiting) == [True, False, None]


def test_a_cancelled_registration_on_the_list_is_reported_and_left(organizer_client, organizer, held):
    occasion, first, second, _ = held
    registrations.cancel(first, actor=organizer)

    response = organizer_client.post(
        attendance_url(occasion),
        {"shown": [first.pk, second.pk], "attended": [first.pk], "save": "1"},
        follow=True,
    )

    assert any(level == WARNING and "no longer has a seat" in text for level, text in messages_of(response))
    assert Registration.objects.get(pk=first.pk).attended is None


def test_before_the_day_the_list_prints_but_does_not_save(organizer_client, member):
    occasion = factories.event(days_ahead=10).occasions.get()
    registration = registrations.register(member, occasion)

    page = organizer_client.get(attendance_url(occasion)).content.decode()
    response = organizer_client.post(
        attendance_url(occasion),
        {"shown": [registration.pk], "attended": [registration.pk], "save": "1"},
        follow=True,
    )

    assert 'name="save"' not in page and " disabled>" in page
    assert "Attendance can be recorded from the day of the occasion" in page
    assert any(
        level == ERROR and "from the day of the occasion" in text for level, text in messages_of(response)
    )
    assert attended(registration) == [None]


def test_a_tampered_list_saves_nothing(organizer_client, held):
    occasion, first, _, _ = held

    response = organizer_client.post(
        attendance_url(occasion), {"shown": [first.pk, "x"], "attended": [first.pk], "save": "1"}
    )

    assert response.status_code == 200
    assert attended(first) == [None]
    assert any(level == ERROR for level, _ in messages_of(response))


def test_importing_the_meeting_tools_list_ticks_the_matches_and_saves_nothing(organizer_client, held):
    occasion, first, second, waiting = held
    data = (
        f"Name,Email\nAnna,{first.user.email.upper()}\n"
        f"Guest,guest@example.org\nWaiting,{waiting.user.email}\n"
    )

    response = organizer_client.post(
        attendance_url(occasion),
        {
            "import": "1",
            "participant_list": SimpleUploadedFile("participants.csv", data.encode(), "text/csv"),
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (INFO, "1 participant was found in the file and is ticked below. Check and save the list.") in (
        messages_of(response)
    )
    assert ticks(html) == {first.pk: True, second.pk: False}
    # Addresses without a seat on this occasion are listed for the organizer to look into.
    assert "guest@example.org" in html and waiting.user.email in html
    assert attended(first, second) == [None, None]


def test_a_file_that_is_not_a_list_gets_its_message_next_to_the_field(organizer_client, held):
    occasion, first, _, _ = held

    response = organizer_client.post(
        attendance_url(occasion),
        {"import": "1", "participant_list": SimpleUploadedFile("list.xlsx", b"PK\x03\x04\x00\x00\x00\x00")},
    )

    assert response.status_code == 200
    field_errors = response.context["import_form"].errors["participant_list"]
    assert field_errors == ["This is not a CSV file. Save the participant list as CSV and upload that file."]
    assert 'id="id_participant_list_error"' in response.content.decode()
    assert attended(first) == [None]


def test_the_list_is_in_the_users_language(organizer_client, organizer, held):
    occasion = held[0]
    organizer.preferred_language = "da"
    organizer.save()

    html = organizer_client.get(attendance_url(occasion)).content.decode()

    assert "Gem fremmøde" in html


def test_another_teams_organizer_neither_sees_nor_saves_the_list(client, organizer, held):
    occasion, first, _, _ = held
    outsider = other_team_organizer(organizer)
    client.force_login(outsider)

    assert client.get(attendance_url(occasion)).status_code == 404
    posted = client.post(attendance_url(occasion), {"shown": [first.pk], "attended": [first.pk], "save": "1"})
    assert posted.status_code == 404
    assert attended(first) == [None]


def test_an_organizer_who_may_only_view_registrations_sees_the_list_without_saving(client, organizer, held):
    occasion, first, _, _ = held
    viewer = make_member("viewer@kl.dk", organizer.organization)
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.set(organizer.user_permissions.exclude(codename="change_registration"))
    factories.organizer_team().members.add(viewer)
    client.force_login(viewer)

    page = client.get(attendance_url(occasion))
    posted = client.post(attendance_url(occasion), {"shown": [first.pk], "attended": [first.pk], "save": "1"})

    assert page.status_code == 200 and 'name="save"' not in page.content.decode()
    assert 'name="import"' not in page.content.decode()
    assert posted.status_code == 403
    assert attended(first) == [None]


def test_the_event_participant_list_links_each_occasion_to_its_attendance(organizer_client, held):
    occasion = held[0]

    html = organizer_client.get(
        reverse("admin:events_event_participants", args=[occasion.event_id])
    ).content.decode()

    assert attendance_url(occasion) in html
