"""The portal's SMTP backend sends what Django's sends, to the same envelope, with less work: a
header that fits on its line is written as it stands, and the sender is parsed once."""

import email
from email import _policybase
from email._policybase import Compat32
from email.charset import Charset

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends import smtp as django_smtp
from hypothesis import given, settings
from hypothesis import strategies as st

from mail import backends
from mail.mime import Email
from network_portal.email_url import email_settings
from newsletters import emails, rendering
from tests.newsletters.editions import make_edition, make_subscriber

PYTHONS_FOLDING = Compat32(linesep="\r\n")

NAMES = st.sampled_from(["Subject", "From", "To", "List-Unsubscribe", "X-A-Rather-Long-Header-Name"])
PIECES = [" ", "  ", "\t", "a", "word", ",", ";", "=?", "?=", "=?utf-8?q?x?=", "<a@b.example>", '"', "(", ")"]
VALUES = st.one_of(
    st.text(st.characters(max_codepoint=127), max_size=90),
    st.lists(st.sampled_from([*PIECES, "x" * 30, "æ", "\x0b", "\r\n"]), max_size=25).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(NAMES, VALUES)
def test_every_header_is_folded_as_pythons_policy_folds_it(name, value):
    assert _folded(backends._QUICK_FOLDING, name, value) == _folded(PYTHONS_FOLDING, name, value)


def _folded(policy, name, value):
    # Python refuses some values (an embedded header after a line break): so must the backend.
    try:
        return policy.fold_binary(name, value)
    except Exception as error:
        return repr(error)


@pytest.mark.parametrize("value", ["", " ", "  a  ", "a" * 69, "a " * 34 + "b", "a" * 70, " " * 69])
def test_values_at_the_edges_of_a_line_are_folded_as_pythons_policy_folds_them(value):
    assert backends._QUICK_FOLDING.fold_binary("Subject", value) == PYTHONS_FOLDING.fold_binary(
        "Subject", value
    )


@pytest.fixture
def header_class_refused(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("the header went through email.header.Header")

    monkeypatch.setattr(_policybase.header, "Header", refused)


def test_a_header_that_fits_on_its_line_is_written_without_the_header_class(header_class_refused):
    assert backends._QUICK_FOLDING.fold_binary("Subject", "Nyhedsbrev") == b"Subject: Nyhedsbrev\r\n"
    with pytest.raises(AssertionError, match="email.header.Header"):
        backends._QUICK_FOLDING.fold_binary("Subject", "Nyhedsbrev " * 10)


class Recorder:
    """An SMTP connection that keeps what it was asked to send."""

    def __init__(self):
        self.sent = []

    def sendmail(self, from_addr, to_addrs, msg):
        self.sent.append((from_addr, to_addrs, msg))


def _sent_by(backend_class, message) -> tuple:
    backend = backend_class(host="127.0.0.1", port=1)
    backend.connection = Recorder()
    assert backend.send_messages([message]) == 1
    return backend.connection.sent[0]


def _messages() -> list[EmailMessage]:
    fixed = {"Date": "Tue, 01 Dec 2026 12:00:00 +0100", "Message-ID": "<fixed@example.org>"}
    plain = EmailMessage(
        subject="Tilmelding bekræftet: Ladeinfrastruktur i kommunerne, workshop med eftermiddagsprogram",
        body="Tak for din tilmelding.\n\nFrom here on, a line that begins with From stays.\n",
        from_email="Netværket for grøn mobilitet <nyhedsbrev@example.org>",
        to=["Åsa Öberg <asa@example.se>", "b@example.org"],
        cc=["c@example.org"],
        bcc=["d@example.org"],
        reply_to=["Sekretariatet <sekretariat@example.org>"],
        headers=fixed,
    )
    rich = Email(
        subject="Anmälan bekräftad",
        body="Text " * 40,
        from_email="portal@example.org",
        to=["e@example.org"],
        headers=fixed,
    )
    rich.attach_alternative("<p>Text</p>", "text/html")
    rich.attach("inbjudan.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    edition = make_edition()
    newsletter = emails.build_message(
        edition,
        make_subscriber("reader@example.org"),
        rendering.EditionRenderer(edition),
        message_id="<newsletter.1.1@example.org>",
    )
    newsletter.extra_headers["Date"] = fixed["Date"]
    return [plain, rich, newsletter]


def test_the_backend_sends_what_djangos_sends_to_the_same_envelope(db, monkeypatch):
    # The same boundaries for both sends, so that the two can be compared byte for byte.
    monkeypatch.setattr("mail.mime.secrets.token_hex", lambda size: "0" * (2 * size))
    for message in _messages():
        ours, djangos = _sent_by(backends.EmailBackend, message), _sent_by(django_smtp.EmailBackend, message)
        assert ours == djangos
        assert email.message_from_bytes(ours[2])["Subject"]


def test_the_sender_is_parsed_once_for_many_messages(monkeypatch):
    parsed = []
    real = backends.sanitize_address
    monkeypatch.setattr(
        backends,
        "sanitize_address",
        lambda address, encoding: parsed.append(address) or real(address, encoding),
    )
    backends._envelope_sender.cache_clear()
    backend = backends.EmailBackend(host="127.0.0.1", port=1)
    backend.connection = Recorder()
    sender = "Netværket <nyhedsbrev@example.org>"
    messages = [EmailMessage("Hej", "Tekst", sender, [f"reader{n}@example.org"]) for n in range(3)]

    assert backend.send_messages(messages) == 3

    assert parsed.count(sender) == 1
    assert [to for _from, to, _msg in backend.connection.sent] == [
        [f"reader{n}@example.org"] for n in range(3)
    ]
    assert {from_ for from_, _to, _msg in backend.connection.sent} == {
        "=?utf-8?q?Netv=C3=A6rket?= <nyhedsbrev@example.org>"
    }


@pytest.mark.parametrize("encoding", [None, "utf-8", Charset("utf-8")])
def test_an_unusual_sender_gets_the_envelope_djangos_gives_it(encoding):
    message = EmailMessage("Hej", "Tekst", b"Netv\xc3\xa6rket <portal@example.org>", ["a@example.org"])
    message.encoding = encoding
    ours, djangos = _sent_by(backends.EmailBackend, message), _sent_by(django_smtp.EmailBackend, message)
    assert ours[:2] == djangos[:2]
    assert ours[0].endswith("<portal@example.org>")


@pytest.mark.parametrize(
    "url", ["smtp://127.0.0.1:1025", "smtps://u:p@mail.example.org:465", "smtp+tls://mail.example.org:587"]
)
def test_an_smtp_server_in_email_url_is_sent_to_through_the_portals_backend(url, tmp_path):
    assert email_settings(url, tmp_path)["EMAIL_BACKEND"] == "mail.backends.EmailBackend"


def test_other_email_urls_keep_their_backends(tmp_path):
    assert (
        email_settings("consolemail://", tmp_path)["EMAIL_BACKEND"]
        == "django.core.mail.backends.console.EmailBackend"
    )
