"""The follow-up the day after an occasion: one email per participant, in their language,
through the outbox, with the materials for participants and the signed evaluation link; none
for the absent, the cancelled, a cancelled event or an old occasion. Materials for participants
are not on the public page, and only participants and organizers download them."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from events import follow_ups
from events.models import ContactPerson, Document, Event, Occasion, Registration
from events.services import attendance, lifecycle
from mail import sending
from mail.models import OutgoingMessage
from members.models import User
from tests import factories
from tests.events.notified import register_for

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def yesterday_at(hour: int) -> dt.datetime:
    return timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)


def this_morning(hour: int = 10) -> dt.datetime:
    return timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)


def held_yesterday(occasion: Occasion) -> Occasion:
    start = yesterday_at(13)
    Occasion.objects.filter(pk=occasion.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    occasion.refresh_from_db()
    return occasion


@pytest.fixture
def yesterday(member, colleague, other_member, organizer, _send_on_commit):
    event = factories.event(title="Ladeinfrastruktur i praksis", capacities=(5,))
    occasion = event.occasions.get()
    came, absent, unknown = (
        register_for(person, occasion, _send_on_commit) for person in (member, colleague, other_member)
    )
    held_yesterday(occasion)
    attendance.record(occasion, {came.pk: True, absent.pk: False}, organizer=organizer, at=this_morning())
    Document.objects.create(
        event=event,
        title="Slides",
        file=ContentFile(b"%PDF-1.4 slides", name="slides.pdf"),
        for_participants=True,
    )
    Document.objects.create(event=event, title="Invitation", url="https://example.org/invitation.pdf")
    mail.outbox.clear()
    return event, came, absent, unknown


def test_one_follow_up_per_participant_the_day_after(
    yesterday, member, colleague, other_member, _send_on_commit
):
    event, came, absent, unknown = yesterday

    with _send_on_commit(execute=True):
        assert follow_ups.send_follow_ups(this_morning()) == 2
        assert follow_ups.send_follow_ups(this_morning(15)) == 0  # the job runs again: nothing twice

    assert sorted(message.to[0] for message in mail.outbox) == sorted([member.email, other_member.email])
    message = next(message for message in mail.outbox if message.to == [member.email])
    assert message.subject == "Thank you for taking part: Ladeinfrastruktur i praksis"
    assert "Slides" in message.body and "Invitation" not in message.body
    link = re.search(r"http://\S+/events/evaluation/\S+", message.body).group(0)
    assert "?lang=en" in link
    html = message.alternatives[0][0]
    assert "Evaluate the event" in html


def test_none_before_nine_on_the_day_after_nor_for_old_occasions(yesterday, _send_on_commit):
    with _send_on_commit(execute=True):
        assert follow_ups.send_follow_ups(this_morning(8)) == 0
        assert follow_ups.send_follow_ups(this_morning() + dt.timedelta(days=follow_ups.CATCH_UP_DAYS)) == 0
    assert not mail.outbox


def test_no_follow_up_for_a_cancelled_event_or_a_seat_given_up(yesterday, member, _send_on_commit):
    event, came, _, unknown = yesterday
    Registration.objects.filter(pk=unknown.pk).update(status=Registration.Status.CANCELLED)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)

    with _send_on_commit(execute=True):
        assert follow_ups.send_follow_ups(this_morning()) == 0


def test_a_follow_up_no_longer_true_when_its_turn_comes_is_withdrawn(
    yesterday, organizer, member, _send_on_commit
):
    came = yesterday[1]
    with _send_on_commit(execute=False):  # written, not yet handed to the worker
        follow_ups.send_follow_ups(this_morning())
    attendance.record(came.occasion, {came.pk: False}, organizer=organizer, at=this_morning())
    message = OutgoingMessage.objects.get(idempotency_key=f"follow-up:{came.pk}:")

    sending.deliver(message.pk)

    message.refresh_from_db()
    assert message.status == OutgoingMessage.Status.WITHDRAWN
    assert not [sent for sent in mail.outbox if sent.to == [member.email]]


def test_an_event_whose_organizers_turned_the_follow_up_off_gets_none(yesterday, member, _send_on_commit):
    event = yesterday[0]
    with _send_on_commit(execute=False):  # one written before the switch, not yet sent
        follow_ups.send_follow_ups(this_morning())
    written = OutgoingMessage.objects.get(idempotency_key=f"follow-up:{yesterday[1].pk}:")
    OutgoingMessage.objects.exclude(pk=written.pk).filter(kind=follow_ups.KIND).delete()

    Event.objects.filter(pk=event.pk).update(sends_follow_up=False)

    with _send_on_commit(execute=True):
        assert follow_ups.send_follow_ups(this_morning(15)) == 0
    sending.deliver(written.pk)
    written.refresh_from_db()
    assert written.status == OutgoingMessage.Status.WITHDRAWN
    assert not mail.outbox


def test_the_follow_up_switch_is_on_the_event_form_and_copies_with_the_event(organizer_client, organizer):
    event = factories.event(title="Ladeinfrastruktur")
    assert event.sends_follow_up  # on unless the organizers turn it off
    page = organizer_client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert 'name="sends_follow_up"' in page.content.decode()
    Event.objects.filter(pk=event.pk).update(sends_follow_up=False)
    copy = lifecycle.copy_event(
        Event.objects.get(pk=event.pk), shift=dt.timedelta(days=7), organizer=organizer
    )
    assert copy.sends_follow_up is False


def test_replies_to_the_follow_up_go_to_the_events_contact(yesterday, member, _send_on_commit):
    event = yesterday[0]
    event.contacts.add(ContactPerson.objects.create(name="Karen Holm", email="karen@kl.dk"))

    with _send_on_commit(execute=True):
        follow_ups.send_follow_ups(this_morning())

    message = next(message for message in mail.outbox if message.to == [member.email])
    assert message.reply_to == ["karen@kl.dk"]


def test_the_follow_up_is_in_the_participants_language(yesterday, member, _send_on_commit):
    User.objects.filter(pk=member.pk).update(preferred_language="sv")

    with _send_on_commit(execute=True):
        follow_ups.send_follow_ups(this_morning())

    message = next(message for message in mail.outbox if message.to == [member.email])
    assert message.subject.startswith("Tack för att du deltog")
    assert "?lang=sv" in message.body


# --- materials for participants ------------------------------------------------------------------


def test_materials_for_participants_are_not_on_the_public_page(client, yesterday):
    event = yesterday[0]

    html = client.get(event.get_absolute_url()).content.decode()

    assert "Invitation" in html and "Slides" not in html


def test_only_participants_and_organizers_download_materials_for_participants(
    client, yesterday, member, colleague, organizer, unverified_member
):
    slides = Document.objects.get(title="Slides")
    url = reverse("events:document", args=[slides.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(unverified_member)
    assert client.get(url).status_code == 404
    client.force_login(colleague)  # marked absent, but had a seat: the material is theirs too
    assert client.get(url).status_code == 200
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    client.force_login(organizer)
    assert client.get(url).status_code == 200


def test_a_series_document_cannot_be_for_participants(yesterday):
    from django.core.exceptions import ValidationError

    from events.models import Series

    series = Series.objects.create(title="Netværket", slug="netvaerket", team=factories.organizer_team())
    document = Document(
        series=series, title="Report", url="https://example.org/report.pdf", for_participants=True
    )
    with pytest.raises(ValidationError) as refused:
        document.full_clean()
    assert "for_participants" in refused.value.message_dict


# --- the member's own page -----------------------------------------------------------------------


def test_my_registrations_links_the_evaluation_while_it_is_open(client, yesterday, member, colleague):
    client.force_login(member)

    html = client.get(reverse("events:my_registrations")).content.decode()

    assert "Evaluate the event" in html and "/events/evaluation/" in html
    client.force_login(colleague)  # marked absent
    assert "Evaluate the event" not in client.get(reverse("events:my_registrations")).content.decode()
