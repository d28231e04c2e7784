import datetime as dt
import io
import re
from unittest import mock

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from newsletters import tokens
from newsletters.models import Consent, Subscriber
from newsletters.services import imports, subscriptions
from tests import factories
from tests.newsletters.trusting import (
    import_csv,
    send_edition_to_everyone,
    sign_up_data,
    unsubscribed_subscriber,
)

Status = Subscriber.Status
Action = Consent.Action

SUBSCRIBE_URL = "/newsletter/"
CONFIRM_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/confirm/[^/\s\"]+/)")
IMPORT_URL = "admin:newsletters_subscriber_import"


@pytest.fixture
def cycling(db):
    return factories.theme("cycling", "Cycling")


def _history(subscriber: Subscriber) -> list[tuple[int, str, str]]:
    return list(Consent.objects.filter(subscriber_id=subscriber.pk).values_list("pk", "action", "source"))


def _upload(content: bytes, name: str = "list.csv") -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


# ---------------------------------------------------------------------------------------------
# Hole 6: an unsubscribe survives a stranger's sign-up, the stale cleanup and an import


def test_an_unsubscribe_survives_a_strangers_sign_up_the_stale_cleanup_and_an_import(
    client, hooks, charging, settings
):
    settings.NEWSLETTER_PENDING_DAYS = 14
    subscriber = unsubscribed_subscriber(hooks, topics=[charging], language="da")
    history = _history(subscriber)
    mail.outbox.clear()

    # A stranger types the address into the public form, with other choices.
    response = client.post(SUBSCRIBE_URL, sign_up_data(subscriber.email, language="sv"))
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED
    assert (subscriber.language, subscriber.all_topics) == ("da", False)
    # Only the owner's mailbox hears of it: a link, and nothing else.
    assert [message.to for message in mail.outbox] == [[subscriber.email]]

    # A month later the housekeeping runs: the row and its record stay.
    month_later = timezone.now() + dt.timedelta(days=30)
    with mock.patch("django.utils.timezone.now", return_value=month_later):
        subscriptions.remove_stale_pending()
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED
    assert _history(subscriber)[: len(history)] == history

    # An organizer imports an old list with the address on it.
    result = import_csv(f"email,language,topics\n{subscriber.email.upper()},en,\nnew@example.org,en,\n")
    assert result.ok and result.created == 1
    assert [(row.email, row.reason) for row in result.skipped] == [
        (subscriber.email, "unsubscribed; only its owner can subscribe again")
    ]
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED
    assert not subscriber.consents.filter(action=Action.IMPORTED).exists()
    assert [action for _pk, action, _source in _history(subscriber)][: len(history)] == [
        action for _pk, action, _source in history
    ]

    # And no newsletter goes to it.
    mail.outbox.clear()
    edition = send_edition_to_everyone()
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
    assert not edition.deliveries.filter(subscriber=subscriber).exists()


def test_the_subscribers_own_confirmed_opt_in_brings_an_unsubscribed_address_back(
    client, hooks, charging, cycling
):
    subscriber = unsubscribed_subscriber(hooks, topics=[charging])
    unsubscribe_record = subscriber.consents.get(action=Action.UNSUBSCRIBED)
    mail.outbox.clear()
    client.post(
        SUBSCRIBE_URL, sign_up_data(subscriber.email, language="sv", all_topics="False", topics=["cycling"])
    )
    path = CONFIRM_LINK.search(mail.outbox[-1].body).group(1)

    # A mail scanner opening the link changes nothing.
    page = client.get(path)
    assert page.status_code == 200
    assert "<form" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED

    assert client.post(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.unsubscribed_at is None
    # The choices made with the request count from the confirmation on.
    assert (subscriber.language, subscriber.all_topics) == ("sv", False)
    assert list(subscriber.topics.all()) == [cycling]
    actions = list(subscriber.consents.values_list("action", flat=True))
    assert actions[-2:] == [Action.SUBSCRIBED, Action.CONFIRMED]
    assert subscriber.consents.filter(pk=unsubscribe_record.pk).exists()

    # Pressing again records nothing more.
    assert client.post(path).status_code == 200
    assert subscriber.consents.filter(action=Action.CONFIRMED).count() == 2


def test_a_re_opt_in_link_dies_when_its_owner_unsubscribes_again(client, hooks):
    subscriber = unsubscribed_subscriber(hooks)
    mail.outbox.clear()
    client.post(SUBSCRIBE_URL, sign_up_data(subscriber.email))
    path = CONFIRM_LINK.search(mail.outbox[-1].body).group(1)
    client.post(path)
    subscriptions.unsubscribe(Subscriber.objects.get(pk=subscriber.pk), source="unsubscribe page")

    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED


def test_a_re_opt_in_link_works_for_nothing_but_confirming(client, hooks):
    subscriber = unsubscribed_subscriber(hooks)
    token = tokens.make_reoptin(subscriber, language="en", topics=[], all_topics=True, event_alerts=False)
    assert tokens.read(token, tokens.CONFIRM) is None
    assert client.post(reverse("newsletters:unsubscribe", args=[token])).status_code == 400
    assert client.get(reverse("newsletters:preferences", args=[token])).status_code == 400


def test_stale_cleanup_never_deletes_a_row_with_an_unsubscribe_in_its_history(hooks, settings):
    settings.NEWSLETTER_PENDING_DAYS = 14
    # A row made pending by the sign-up of earlier versions, which turned unsubscribed
    # addresses into pending ones.
    subscriber = unsubscribed_subscriber(hooks, "legacy@example.org")
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Status.PENDING)
    history = _history(subscriber)

    assert subscriptions.remove_stale_pending(dt.timedelta(0)) == 0
    assert _history(subscriber) == history
    result = import_csv("email,language,topics\nlegacy@example.org,en,\n")
    assert result.created == 0
    assert Subscriber.objects.get(pk=subscriber.pk).status == Status.PENDING


# ---------------------------------------------------------------------------------------------
# Hole 7: malformed subscriber CSV


def test_an_import_with_a_field_over_the_csv_limit_reports_the_row_and_imports_nothing(client, organizer):
    client.force_login(organizer)
    huge = "x" * 200_000
    content = f"email,language,topics\nfine@example.org,en,\nother@example.org,en,{huge}\n".encode()
    response = client.post(
        reverse(IMPORT_URL), {"file": _upload(content), "source": "Network day", "consent_text": "Yes"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<td>3</td>" in page
    assert "too long" in page
    assert huge not in page
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"email,language,topics\nfine@example.org,en,\x00\n", "NUL"),
        ("email,language,topics\nfine@example.org,en,\n".encode("utf-16"), "UTF-8"),
        ("email,language,topics\nfine@example.org,en,\n".encode("utf-16-le"), "UTF-8"),
        (b"email,language,topics\nfine@example.org,en,\n\xff\xfe\n", "UTF-8"),
        (b"PK\x03\x04\x14\x00\x06\x00", "UTF-8"),
    ],
    ids=["nul", "utf-16", "utf-16-without-bom", "latin-1", "spreadsheet"],
)
def test_a_malformed_csv_is_a_clear_error_in_admin_and_imports_nothing(client, organizer, content, expected):
    client.force_login(organizer)
    response = client.post(reverse(IMPORT_URL), {"file": _upload(content), "source": "Network day"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert expected in page
    assert not Subscriber.objects.exists()


def test_an_import_over_the_size_limit_is_refused_before_reading_it(client, organizer, settings):
    settings.NEWSLETTER_IMPORT_MAX_BYTES = 1000
    client.force_login(organizer)
    rows = "".join(f"person{number}@example.org,en,\n" for number in range(100))
    response = client.post(
        reverse(IMPORT_URL), {"file": _upload(f"email,language,topics\n{rows}".encode()), "source": "List"}
    )
    assert response.status_code == 200
    assert "larger than" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_a_long_bad_value_is_not_echoed_whole_and_the_problems_listed_are_bounded(db):
    long_address = "a" * 5000 + "@example"
    rows = "".join(f"bad{number},en,\n" for number in range(500))
    result = import_csv(f"email,language,topics\n{long_address},en,\n{rows}")
    assert not result.ok
    assert result.errors[0].row == 2
    assert len(result.errors[0].message) < 300
    assert len(result.errors) <= imports.MAX_REPORTED_ERRORS + 1
    assert "more" in result.errors[-1].message
    assert not Subscriber.objects.exists()


def test_the_import_command_reports_a_malformed_file_without_a_traceback(tmp_path, db):
    path = tmp_path / "list.csv"
    path.write_text("email,language,topics\nfine@example.org,en," + "x" * 200_000 + "\n", encoding="utf-8")
    errors = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_subscribers", str(path), "--source", "Old list", stderr=errors)
    assert "Row 2" in errors.getvalue()
    assert not Subscriber.objects.exists()
