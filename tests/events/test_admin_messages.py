"""The organizer's message to participants (admin:events_event_message): a preview as the
participants get it, a test to oneself, a choice of recipients, and the send itself."""

import html

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from events import selectors
from events.services import lifecycle
from mail.models import OutgoingMessage
from tests import factories
from tests.admin_forms import form_data
from tests.conftest import make_member
from tests.events.admin_pages import events_url, messages_of, run_action
from tests.events.notified import register_for

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture(autouse=True)
def _send_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def message_url(event) -> str:
    return reverse("admin:events_event_message", args=[event.pk])


def _page_form(client, event, **fields) -> dict:
    """The page's form as a browser posts it, with `fields` filled in."""
    response = client.get(message_url(event))
    assert response.status_code == 200
    data = form_data(response, "message-form")
    data.update({name: [str(value)] for name, value in fields.items()})
    return data


def _written():
    return OutgoingMessage.objects.filter(kind="organizer_message")


def _html_part(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


@pytest.fixture
def seated(member, colleague, other_member, _send_on_commit):
    """Two occasions of one seat each: on the first, `member` confirmed and `other_member`
    waiting; on the second, `colleague` confirmed."""
    event = factories.event(title="Charging meeting", capacities=(1, 1))
    first, second = event.occasions.order_by("starts_at")
    register_for(member, first, _send_on_commit)
    register_for(other_member, first, _send_on_commit)
    register_for(colleague, second, _send_on_commit)
    mail.outbox.clear()
    return event, first, second


# --- the page and the preview -----------------------------------------------------------------


def test_the_page_offers_the_three_buttons_and_the_recipient_choice(organizer_client, seated):
    event, _first, _second = seated
    response = organizer_client.get(message_url(event))
    page = response.content.decode()
    for button in ("preview", "test", "send"):
        assert f'name="{button}"' in page
    assert set(response.context["form"].fields["recipients"].choices) >= {
        ("confirmed", "Confirmed participants")
    }
    assert 'name="nonce"' in page


def test_preview_shows_the_html_and_the_text_and_sends_nothing(organizer_client, seated):
    event, _first, _second = seated
    data = _page_form(organizer_client, event, subject="Bring a laptop", body="Please bring **a laptop**.")
    data["preview"] = ["1"]

    response = organizer_client.post(message_url(event), data)

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.subject == "Bring a laptop"
    assert "<strong>a laptop</strong>" in preview.html and "<html" in preview.html
    assert "Please bring **a laptop**." in preview.text
    page = response.content.decode()
    # The HTML is shown in a sandboxed frame that runs no script, the text as text.
    assert "<iframe" in page and "sandbox" in page and 'srcdoc="' in page
    assert html.escape("<strong>a laptop</strong>") in page
    assert "Please bring **a laptop**." in page
    assert response.context["recipient_count"] == 2  # the confirmed, by default
    assert not _written().exists() and not mail.outbox


def test_preview_is_what_the_participant_gets(organizer_client, seated, member):
    event, _first, _second = seated
    data = _page_form(organizer_client, event, subject="Room 2", body="We meet in *room 2*.")
    preview = organizer_client.post(message_url(event), {**data, "preview": ["1"]}).context["preview"]

    organizer_client.post(message_url(event), {**data, "send": ["1"]})

    sent = next(message for message in mail.outbox if message.to == [member.email])
    assert (sent.subject, sent.body, _html_part(sent)) == (preview.subject, preview.text, preview.html)


def test_preview_sanitizes_a_script_in_the_body(organizer_client, seated):
    event, _first, _second = seated
    body = (
        'Hi <script>alert("x")</script> <a href="javascript:alert(1)">there</a> <img src=x onerror=alert(2)>'
    )
    data = _page_form(organizer_client, event, subject="Hello", body=body)

    response = organizer_client.post(message_url(event), {**data, "preview": ["1"]})

    preview = response.context["preview"]
    assert (
        "<script" not in preview.html and "javascript:" not in preview.html and "onerror" not in preview.html
    )
    page = response.content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert not _written().exists()


# --- the test to oneself ------------------------------------------------------------------------


def test_a_test_reaches_only_the_organizers_address(organizer_client, organizer, seated):
    event, _first, _second = seated
    data = _page_form(organizer_client, event, subject="Bring a laptop", body="Please bring **a laptop**.")

    response = organizer_client.post(message_url(event), {**data, "test": ["1"]})

    assert response.status_code == 200
    assert [message.to for message in mail.outbox] == [[organizer.email]]
    test = mail.outbox[0]
    assert test.subject == "[TEST] Bring a laptop"
    assert "<strong>a laptop</strong>" in _html_part(test) and "Please bring **a laptop**." in test.body
    assert not _written().exists()
    assert any(organizer.email in text for _level, text in messages_of(response))
    # The form stays filled in, ready to send.
    assert response.context["form"]["subject"].value() == "Bring a laptop"


# --- who it reaches -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "recipients, occasion, expected",
    [
        ("confirmed", None, {"member", "colleague"}),
        ("waitlisted", None, {"other_member"}),
        ("both", None, {"member", "colleague", "other_member"}),
        ("both", "first", {"member", "other_member"}),
        ("confirmed", "second", {"colleague"}),
        ("waitlisted", "second", set()),
    ],
)
def test_the_choice_of_recipients_reaches_exactly_those_people(
    organizer_client, seated, member, colleague, other_member, recipients, occasion, expected
):
    event, first, second = seated
    people = {"member": member, "colleague": colleague, "other_member": other_member}
    chosen = {"first": first, "second": second, None: None}[occasion]
    data = _page_form(
        organizer_client,
        event,
        subject="Hello",
        body="Hello all.",
        recipients=recipients,
        occasion=chosen.pk if chosen else "",
    )

    preview = organizer_client.post(message_url(event), {**data, "preview": ["1"]})
    assert preview.context["recipient_count"] == len(expected)

    response = organizer_client.post(message_url(event), {**data, "send": ["1"]})

    reached = set(_written().values_list("recipient", flat=True))
    assert reached == {people[name].email for name in expected}
    if expected:
        assert response.status_code == 302
    else:
        # Nobody to write to: said next to the choice, nothing sent.
        assert response.status_code == 200 and response.context["form"].errors["recipients"]
        assert response.context["recipient_count"] == 0


def test_the_count_and_the_service_share_one_rule(seated, organizer, _send_on_commit):
    event, first, _second = seated
    for recipients in ("confirmed", "waitlisted", "both"):
        for occasion in (None, first):
            count = selectors.message_recipients(event, recipients=recipients, occasion=occasion).count()
            with _send_on_commit(execute=True):
                written = lifecycle.message_participants(
                    event,
                    subject="s",
                    body="b",
                    organizer=organizer,
                    recipients=recipients,
                    occasion=occasion,
                    message_key=f"{recipients}-{occasion}",
                )
            assert written == count


def test_send_writes_through_the_outbox_and_returns_to_the_event(organizer_client, seated, member, colleague):
    event, _first, _second = seated
    data = _page_form(organizer_client, event, subject="Bring a laptop", body="Please bring **a laptop**.")

    response = organizer_client.post(message_url(event), {**data, "send": ["1"]})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:events_event_change", args=[event.pk])
    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert "2 messages are on their way." in told
    assert sorted(_written().values_list("recipient", flat=True)) == sorted([member.email, colleague.email])
    message = next(message for message in mail.outbox if message.to == [member.email])
    assert message.subject == "Bring a laptop" and "<strong>a laptop</strong>" in _html_part(message)


def test_a_double_send_writes_each_message_once(organizer_client, seated, member):
    event, _first, _second = seated
    data = _page_form(organizer_client, event, subject="Room change", body="We meet in room 2.")

    organizer_client.post(message_url(event), {**data, "send": ["1"]})
    organizer_client.post(message_url(event), {**data, "send": ["1"]})

    assert _written().count() == 2
    assert len([m for m in mail.outbox if m.to == [member.email]]) == 1


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("button", ["preview", "test", "send"])
def test_an_empty_form_shows_errors_next_to_the_fields(organizer_client, seated, button):
    event, _first, _second = seated

    response = organizer_client.post(message_url(event), {button: "1"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"subject", "body", "recipients"} <= set(errors)
    assert 'class="errorlist' in response.content.decode()
    assert not _written().exists() and not mail.outbox


def test_nonsense_choices_are_refused_next_to_their_fields(organizer_client, seated):
    event, _first, _second = seated
    other_occasion = factories.event().occasions.get()
    data = _page_form(
        organizer_client, event, subject="Hi", body="Hi", recipients="everyone", occasion=other_occasion.pk
    )

    response = organizer_client.post(message_url(event), {**data, "send": ["1"]})

    assert response.status_code == 200
    assert {"recipients", "occasion"} <= set(response.context["form"].errors)
    assert not _written().exists()


# --- the list action and who may write ------------------------------------------------------------


def test_the_list_action_opens_the_page_for_one_event(organizer_client, seated):
    event, _first, _second = seated

    response = organizer_client.post(
        events_url(), {"action": "write_to_participants", "_selected_action": [event.pk]}
    )

    assert response.status_code == 302 and response["Location"] == message_url(event)
    assert not _written().exists()


def test_the_list_action_asks_for_exactly_one_event(organizer_client, seated):
    event, _first, _second = seated
    other = factories.event()

    response = run_action(organizer_client, events_url(), "write_to_participants", [event, other])

    assert any("exactly one event" in text for _level, text in messages_of(response))
    assert not _written().exists()


def test_another_teams_organizer_finds_no_page(client, seated):
    event, _first, _second = seated
    outsider = make_member("organizer@other.dk", full_name="Other Team")
    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.set(Permission.objects.filter(content_type__app_label="events"))
    factories.organizer_team("Other team", outsider)
    client.force_login(outsider)

    assert client.get(message_url(event)).status_code == 404
    response = client.post(
        message_url(event), {"subject": "Hi", "body": "Hi", "recipients": "both", "nonce": "x", "send": "1"}
    )

    assert response.status_code == 404
    assert not _written().exists()


def test_sending_needs_the_change_permission(client, seated):
    event, _first, _second = seated
    viewer = make_member("viewer@kl.dk", full_name="Only Looks")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.set(Permission.objects.filter(codename="view_event"))
    factories.organizer_team(factories.DEFAULT_TEAM, viewer)
    client.force_login(viewer)

    response = client.post(
        message_url(event), {"subject": "Hi", "body": "Hi", "recipients": "both", "nonce": "x", "send": "1"}
    )

    assert response.status_code == 403
    assert not _written().exists() and not mail.outbox
