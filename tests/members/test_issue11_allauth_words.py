"""allauth's pages, messages and emails say what the English says, with the portal's words: one word
for each thing per language (issue 11, defect 2). The portal's catalogues override allauth's own
for the strings listed in members/allauth_strings.py."""

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from tests.conftest import PASSWORD, make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")

# Words allauth's own catalogues use beside the portal's (e-postadress, adgangskode, e-mail).
BANNED = {
    "sv": [
        re.compile(r"epost", re.I),
        re.compile(r"verifierings-?mail", re.I),
        re.compile(r"(?<![-\w])mail(et|en|s)?\b", re.I),
        re.compile(r"Har du redan ett konto\? Då kan du"),
    ],
    "da": [
        re.compile(r"\bpassword\b", re.I),
        re.compile(r"(?<![-\w])email", re.I),
        re.compile(r"(?<![-\w])emailadresse", re.I),
        re.compile(r"succesfuldt", re.I),
        re.compile(r"login-kode", re.I),
    ],
}


class _Text(HTMLParser):
    """What a visitor reads: text, placeholders and button values, not attribute names such as
    type="password" or name="email"."""

    def __init__(self):
        super().__init__()
        self.parts = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(response) -> str:
    parser = _Text()
    parser.feed(response.content.decode())
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _assert_clean(text, language):
    text = re.sub(r"https?://\S+", "", text)  # links name allauth's paths (/password/reset/)
    for pattern in BANNED[language]:
        assert not pattern.search(text), (pattern.pattern, pattern.search(text).group(0), text)


def _browser(client, language):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


SIGN_IN_PROMPT = {
    # Under the sign-in form: no account yet → the link goes to the sign-up page.
    "da": 'Har du ikke en konto endnu? Så <a href="{signup}">opret en konto</a> først.',
    "sv": 'Har du inget konto än? <a href="{signup}">Skapa ett konto</a> först.',
}
SIGN_UP_PROMPT = {
    # Under the sign-up form: already have an account → the link goes to the sign-in page.
    "da": 'Har du allerede en konto? Så <a href="{login}">log ind</a>.',
    "sv": 'Har du redan ett konto? <a href="{login}">Logga in</a>.',
}


def _normalized(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("language", ["da", "sv"])
def test_sign_in_page_invites_to_sign_up_with_a_link_to_sign_up(client, language):
    response = _browser(client, language).get(reverse("account_login"))
    assert SIGN_IN_PROMPT[language].format(signup=reverse("account_signup")) in _normalized(response)
    _assert_clean(visible_text(response), language)


@pytest.mark.parametrize("language", ["da", "sv"])
def test_sign_up_page_invites_to_sign_in_with_a_link_to_sign_in(client, language):
    response = _browser(client, language).get(reverse("account_signup"))
    assert SIGN_UP_PROMPT[language].format(login=reverse("account_login")) in _normalized(response)
    _assert_clean(visible_text(response), language)


@pytest.mark.parametrize(
    ("language", "cancel", "request_code"),
    [("da", "Annuller", "Send mig en loginkode"), ("sv", "Avbryt", "Skicka mig en inloggningskod")],
)
def test_code_pages_cancel_is_not_cancelling_a_booking(client, aarhus, language, cancel, request_code):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    _browser(client, language)
    assert request_code in visible_text(client.get(reverse("account_login")))
    request_page = client.get(reverse("account_request_login_code"))
    _assert_clean(visible_text(request_page), language)

    response = client.post(reverse("account_request_login_code"), {"email": member.email}, follow=True)
    text = visible_text(response)
    assert cancel in text
    assert "Avboka" not in text and "Afmeld" not in text
    _assert_clean(text, language)
    (message,) = mail.outbox
    _assert_clean(message.subject + "\n" + message.body, language)


@pytest.mark.parametrize(
    ("language", "intro"),
    [
        ("da", "Har du glemt din adgangskode? Skriv din e-mailadresse nedenfor"),
        ("sv", "Har du glömt ditt lösenord? Ange din e-postadress nedan"),
    ],
)
def test_password_reset_pages_and_email_use_the_portals_words(client, aarhus, language, intro):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    _browser(client, language)
    page = client.get(reverse("account_reset_password"))
    assert intro in visible_text(page)
    _assert_clean(visible_text(page), language)

    done = client.post(reverse("account_reset_password"), {"email": member.email}, follow=True)
    _assert_clean(visible_text(done), language)
    (message,) = mail.outbox
    _assert_clean(message.subject + "\n" + message.body, language)


@pytest.mark.parametrize(
    ("language", "signed_in"),
    [("da", "Du er logget ind som"), ("sv", "Du är inloggad som")],
)
def test_the_message_after_sign_in_reads_naturally(client, aarhus, language, signed_in):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    response = _browser(client, language).post(
        reverse("account_login"), {"login": member.email, "password": PASSWORD}, follow=True
    )
    text = visible_text(response)
    assert signed_in in text
    _assert_clean(text, language)


@pytest.mark.parametrize(
    ("language", "sent"),
    [
        ("da", "Vi har sendt dig en e-mail med et link."),
        ("sv", "Vi har skickat ett e-postmeddelande med en länk till dig."),
    ],
)
def test_sign_up_verification_page_and_email_use_the_portals_words(client, language, sent):
    response = _browser(client, language).post(
        reverse("account_signup"),
        {"email": "new@aarhus.dk", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    text = visible_text(response)
    assert sent in text
    _assert_clean(text, language)
    (message,) = mail.outbox
    _assert_clean(message.subject + "\n" + message.body, language)


@pytest.mark.parametrize("language", ["da", "sv"])
def test_bad_sign_in_and_sign_up_errors_use_the_portals_words(client, aarhus, language):
    make_member("planner@aarhus.dk", aarhus)
    _browser(client, language)
    wrong = client.post(reverse("account_login"), {"login": "planner@aarhus.dk", "password": "nope"})
    assert {
        "da": "E-mailadressen eller adgangskoden er forkert.",
        "sv": "E-postadressen eller lösenordet är fel.",
    }[language] in visible_text(wrong)
    mismatch = client.post(
        reverse("account_signup"),
        {"email": "x@aarhus.dk", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    _assert_clean(visible_text(mismatch), language)


@pytest.mark.parametrize(("language", "expected"), [("da", "Afmeld"), ("sv", "Avboka")])
def test_cancelling_a_registration_keeps_its_own_word(language, expected):
    """organization_seats.html's link cancels a colleague's registration; allauth's plain "Cancel"
    button must not borrow that word, so the link has its own context."""
    template = Template('{% load i18n %}{% translate "Cancel" context "registration" %}')
    with translation.override(language):
        assert template.render(Context()) == expected
