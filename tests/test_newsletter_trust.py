"""Issue 8, the newsletter's part: an unsubscribe survives everything but its owner's own
confirmed opt-in (hole 6), a malformed subscriber CSV is a clear error and never a 500 (hole 7),
and the GDPR erasure of a subscriber leaves a hashed suppression entry that keeps the address
from being imported again, with the member's download and erasure wired into members.privacy."""

import datetime as dt
import io
import json
import re
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from mail.models import OutgoingMessage
from members import privacy
from newsletters import delivery, tokens
from newsletters import suppression as newsletter_suppression
from newsletters.models import Consent, Delivery, Edition, Subscriber, Suppression
from newsletters.services import erasure, imports, subscriptions
from tests import factories

Status = Subscriber.Status
Action = Consent.Action

SUBSCRIBE_URL = "/newsletter/"
CONFIRM_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/confirm/[^/\s\"]+/)")
IMPORT_URL = "admin:newsletters_subscriber_import"


@pytest.fixture
def hooks(db, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def charging(db):
    return factories.theme("charging", "Charging infrastructure")


@pytest.fixture
def cycling(db):
    return factories.theme("cycling", "Cycling")


def _form(email: str, **overrides) -> dict:
    data = {"email": email, "language": "en", "all_topics": "True", "consent": "on", "website": ""}
    data.update(overrides)
    return data


def _active(hooks, email="reader@example.org", *, topics=(), language="en") -> Subscriber:
    with hooks(execute=True):
        subscriber = subscriptions.subscribe(
            email,
            language=language,
            topics=list(topics),
            all_topics=not topics,
            event_alerts=False,
            consent_text="I agree.",
            source="test",
        )
    return subscriptions.confirm(subscriber, source="test")


def _unsubscribed(hooks, email="reader@example.org", **kwargs) -> Subscriber:
    return subscriptions.unsubscribe(_active(hooks, email, **kwargs), source="unsubscribe page")


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def _import(text: str) -> imports.ImportResult:
    return imports.import_subscribers(_csv(text), source="Old sign-up sheet", consent_text="Yes")


def _history(subscriber: Subscriber) -> list[tuple[int, str, str]]:
    return list(Consent.objects.filter(subscriber_id=subscriber.pk).values_list("pk", "action", "source"))


def _send_edition_to_everyone() -> Edition:
    edition = Edition.objects.create(subject="Spring news", body="Hello.", include_upcoming_events=False)
    delivery.send_now(edition, by=None)
    with mock.patch.object(delivery, "publish_batch", return_value=True):
        delivery.start_due_editions()
    delivery.send_batch(edition.pk, 100)
    edition.refresh_from_db()
    return edition


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
    subscriber = _unsubscribed(hooks, topics=[charging], language="da")
    history = _history(subscriber)
    mail.outbox.clear()

    # A stranger types the address into the public form, with other choices.
    response = client.post(SUBSCRIBE_URL, _form(subscriber.email, language="sv"))
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
    result = _import(f"email,language,topics\n{subscriber.email.upper()},en,\nnew@example.org,en,\n")
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
    edition = _send_edition_to_everyone()
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
    assert not edition.deliveries.filter(subscriber=subscriber).exists()


def test_the_subscribers_own_confirmed_opt_in_brings_an_unsubscribed_address_back(
    client, hooks, charging, cycling
):
    subscriber = _unsubscribed(hooks, topics=[charging])
    unsubscribe_record = subscriber.consents.get(action=Action.UNSUBSCRIBED)
    mail.outbox.clear()
    client.post(SUBSCRIBE_URL, _form(subscriber.email, language="sv", all_topics="False", topics=["cycling"]))
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
    subscriber = _unsubscribed(hooks)
    mail.outbox.clear()
    client.post(SUBSCRIBE_URL, _form(subscriber.email))
    path = CONFIRM_LINK.search(mail.outbox[-1].body).group(1)
    client.post(path)
    subscriptions.unsubscribe(Subscriber.objects.get(pk=subscriber.pk), source="unsubscribe page")

    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED


def test_a_re_opt_in_link_works_for_nothing_but_confirming(client, hooks):
    subscriber = _unsubscribed(hooks)
    token = tokens.make_reoptin(subscriber, language="en", topics=[], all_topics=True, event_alerts=False)
    assert tokens.read(token, tokens.CONFIRM) is None
    assert client.post(reverse("newsletters:unsubscribe", args=[token])).status_code == 400
    assert client.get(reverse("newsletters:preferences", args=[token])).status_code == 400


def test_stale_cleanup_never_deletes_a_row_with_an_unsubscribe_in_its_history(hooks, settings):
    settings.NEWSLETTER_PENDING_DAYS = 14
    # A row made pending by the sign-up of earlier versions, which turned unsubscribed
    # addresses into pending ones.
    subscriber = _unsubscribed(hooks, "legacy@example.org")
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Status.PENDING)
    history = _history(subscriber)

    assert subscriptions.remove_stale_pending(dt.timedelta(0)) == 0
    assert _history(subscriber) == history
    result = _import("email,language,topics\nlegacy@example.org,en,\n")
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
    result = _import(f"email,language,topics\n{long_address},en,\n{rows}")
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


# ---------------------------------------------------------------------------------------------
# GDPR: erasure and suppression


def test_erasing_a_subscriber_removes_the_person_keeps_sent_counts_and_suppresses_the_address(
    hooks, charging
):
    subscriber = _active(hooks, "reader@example.org")
    _active(hooks, "other@example.org")
    edition = _send_edition_to_everyone()
    assert edition.delivery_counts()["sent"] == 2
    assert OutgoingMessage.objects.filter(recipient="reader@example.org").exists()

    assert erasure.erase_subscriber("  Reader@Example.org ") is True

    assert not Subscriber.objects.filter(email="reader@example.org").exists()
    assert not Consent.objects.filter(subscriber_id=subscriber.pk).exists()
    assert not OutgoingMessage.objects.filter(recipient="reader@example.org").exists()
    # The edition's statistics still count the message that went out, naming nobody.
    assert edition.delivery_counts()["sent"] == 2
    assert edition.deliveries.filter(subscriber__isnull=True).count() == 1
    suppression = Suppression.objects.get()
    assert "reader" not in suppression.email_hash
    assert newsletter_suppression.is_suppressed("READER@example.org")
    assert not newsletter_suppression.is_suppressed("other@example.org")

    # An old list cannot bring the address back; the rest of the list is imported.
    result = _import("email,language,topics\nreader@example.org,en,\nthird@example.org,en,\n")
    assert result.created == 1
    assert [(row.email, row.reason) for row in result.skipped] == [
        ("reader@example.org", "erased at the person's request; only they can subscribe again")
    ]
    assert not Subscriber.objects.filter(email="reader@example.org").exists()
    # Erasing twice changes nothing.
    assert erasure.erase_subscriber("reader@example.org") is False
    assert Suppression.objects.count() == 1


def test_an_erased_subscribers_pending_delivery_is_skipped_not_sent(hooks):
    _active(hooks, "reader@example.org")
    edition = Edition.objects.create(subject="News", body="Hello.", include_upcoming_events=False)
    delivery.send_now(edition, by=None)
    with mock.patch.object(delivery, "publish_batch", return_value=True):
        delivery.start_due_editions()
    erasure.erase_subscriber("reader@example.org")
    mail.outbox.clear()
    delivery.send_batch(edition.pk, 100)
    edition.refresh_from_db()
    assert not mail.outbox
    assert edition.status == Edition.Status.SENT
    assert edition.delivery_counts()["skipped"] == 1
    assert not Delivery.objects.filter(error__icontains="reader").exists()


def test_the_suppression_keeps_working_after_a_secret_key_rotation(hooks, settings):
    _active(hooks)
    erasure.erase_subscriber("reader@example.org")
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert newsletter_suppression.is_suppressed("reader@example.org")


def test_a_dedicated_suppression_key_can_be_set_later_and_rotated_with_fallbacks(hooks, settings):
    settings.NEWSLETTER_SUPPRESSION_KEY = ""
    erasure.erase_subscriber(_active(hooks, "early@example.org").email)
    settings.NEWSLETTER_SUPPRESSION_KEY = "first-dedicated-key-0123456789"
    erasure.erase_subscriber(_active(hooks, "later@example.org").email)
    assert newsletter_suppression.is_suppressed("early@example.org") and newsletter_suppression.is_suppressed(
        "later@example.org"
    )
    hashes = set(Suppression.objects.values_list("email_hash", flat=True))
    assert newsletter_suppression.suppression_hash("later@example.org") in hashes

    settings.NEWSLETTER_SUPPRESSION_KEY = "second-dedicated-key-9876543210"
    assert not newsletter_suppression.is_suppressed("later@example.org")
    settings.NEWSLETTER_SUPPRESSION_KEY_FALLBACKS = ["first-dedicated-key-0123456789"]
    assert newsletter_suppression.is_suppressed("later@example.org") and newsletter_suppression.is_suppressed(
        "early@example.org"
    )


def test_a_suppressed_address_comes_back_only_through_double_opt_in(client, hooks):
    _active(hooks)
    erasure.erase_subscriber("reader@example.org")
    mail.outbox.clear()

    client.post(SUBSCRIBE_URL, _form("reader@example.org"))
    subscriber = Subscriber.objects.get(email="reader@example.org")
    assert subscriber.status == Status.PENDING
    assert newsletter_suppression.is_suppressed("reader@example.org")
    # Still pending: an import leaves it alone, and the cleanup removes only the new row.
    assert _import("email,language,topics\nreader@example.org,en,\n").created == 0
    assert subscriptions.remove_stale_pending(dt.timedelta(0)) == 1
    assert newsletter_suppression.is_suppressed("reader@example.org")
    assert _import("email,language,topics\nreader@example.org,en,\n").created == 0

    client.post(SUBSCRIBE_URL, _form("reader@example.org"))
    client.post(CONFIRM_LINK.search(mail.outbox[-1].body).group(1))
    assert Subscriber.objects.get(email="reader@example.org").status == Status.ACTIVE
    assert not newsletter_suppression.is_suppressed("reader@example.org")


def test_a_member_with_a_verified_address_may_subscribe_again_after_an_erasure(client, hooks, member):
    _active(hooks, member.email)
    erasure.erase_subscriber(member.email)
    client.force_login(member)
    client.post(reverse("newsletters:subscribe_member"))
    assert Subscriber.objects.get(email=member.email).status == Status.ACTIVE
    assert not newsletter_suppression.is_suppressed(member.email)


def test_an_organizer_deleting_a_subscriber_in_admin_erases_it_with_a_suppression(client, hooks, organizer):
    one = _unsubscribed(hooks, "one@example.org")
    two = _active(hooks, "two@example.org")
    three = _active(hooks, "three@example.org")
    client.force_login(organizer)
    delete_url = reverse("admin:newsletters_subscriber_delete", args=[one.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    changelist = reverse("admin:newsletters_subscriber_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()
    # The admin's history keeps that something was erased, not whose address it was.
    history = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert len(history) == 3
    assert not [entry for entry in history if "@" in entry]
    assert all(
        newsletter_suppression.is_suppressed(email)
        for email in ("one@example.org", "two@example.org", "three@example.org")
    )
    result = _import("email,language,topics\none@example.org,en,\ntwo@example.org,en,\n")
    assert result.created == 0 and len(result.skipped) == 2
    assert client.get(reverse("admin:newsletters_subscriber_add")).status_code == 403


def test_the_newsletter_part_of_a_members_download_has_the_subscription_and_its_consents(
    hooks, member, charging
):
    subscriber = subscriptions.subscribe_member(member, consent_text="Yes please.")
    subscriptions.update_preferences(
        subscriber, topics=[charging], all_topics=False, language="da", event_alerts=True, source="test"
    )
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    assert holder.order == 200
    data = json.loads(json.dumps(holder.export(member)))
    assert len(data) == 1
    exported = data[0]
    assert exported["email"] == member.email
    assert (exported["status"], exported["language"], exported["event_alerts"]) == ("active", "da", True)
    assert exported["topics"] == ["charging"]
    assert exported["all_topics"] is False
    assert exported["confirmed_at"] and exported["created_at"] and exported["unsubscribed_at"] is None
    assert [(record["action"], record["source"]) for record in exported["consents"]] == [
        ("subscribed", "profile"),
        ("preferences", "test"),
    ]
    assert exported["consents"][0]["text"] == "Yes please."
    assert exported["consents"][0]["at"]


def test_a_member_without_a_subscription_downloads_an_empty_newsletter_part(member):
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    assert holder.export(member) == []


def test_erasing_a_members_account_erases_the_subscription_and_suppresses_the_address(hooks, member):
    subscriptions.subscribe_member(member, consent_text="Yes.")
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    holder.erase(member)
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()
    assert newsletter_suppression.is_suppressed(member.email)


def test_an_unverified_account_neither_downloads_nor_erases_someone_elses_subscription(hooks, member):
    # Anyone can type any address into a sign-up; until it is verified it is not theirs.
    subscriber = _active(hooks, member.email)
    EmailAddress.objects.filter(user=member).update(verified=False)
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    assert holder.export(member) == []
    holder.erase(member)
    assert Subscriber.objects.get(pk=subscriber.pk).status == Status.ACTIVE
    assert not newsletter_suppression.is_suppressed(member.email)
