"""Shared fixtures: named people (a member, a colleague from the same organization, a member
of another organization, a member awaiting verification, an organizer, a superuser) and the
Chromium set-up for browser journeys."""

import os
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from members import services
from members.models import Organization, OrganizationDomain, User
from members.reference import load_organizations, read_records

# ORM calls from the test thread while Playwright's event loop runs in it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "a-long-test-password-2026"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


def make_member(email: str, organization: Organization | None = None, **profile) -> User:
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if organization is not None:
        defaults = {
            "full_name": email.split("@")[0].title(),
            "role": "transport_planner",
            "preferred_language": "en",
        }
        services.update_profile(user, organization=organization, **{**defaults, **profile})
    return user


CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def confirmation_path(message) -> str:
    """The path of the email-confirmation link in a sent message."""
    return CONFIRM_LINK.search(message.body).group(1)


def sign_up_and_confirm(client, email: str) -> User:
    """Sign up through allauth's pages and confirm the address from the sent message, as a
    person would (a GET shows a button; the POST confirms)."""
    mail.outbox.clear()
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content[:3000]
    path = confirmation_path(mail.outbox[-1])
    assert client.get(path).status_code == 200
    client.post(path)
    return User.objects.get(email=email)


@pytest.fixture
def reference_organizations(db) -> None:
    """The data migration loads them, but a transactional test (browser, concurrency) empties
    the tables when it ends; load them again for the tests that follow it."""
    if not Organization.objects.filter(kind="municipality").exists():
        load_organizations(Organization, OrganizationDomain, read_records())


@pytest.fixture
def aarhus(reference_organizations) -> Organization:
    return Organization.objects.get(country="DK", kind="municipality", official_code="751")


@pytest.fixture
def odense(reference_organizations) -> Organization:
    return Organization.objects.get(country="DK", kind="municipality", official_code="461")


@pytest.fixture
def member(aarhus) -> User:
    return make_member("planner@aarhus.dk", aarhus, full_name="Jens Kristensen")


@pytest.fixture
def colleague(aarhus) -> User:
    return make_member("colleague@aarhus.dk", aarhus, full_name="Mette Aarhus")


@pytest.fixture
def other_member(odense) -> User:
    return make_member("planner@odense.dk", odense, full_name="Lars Odense")


@pytest.fixture
def unverified_member(odense) -> User:
    return make_member("consultant@example.org", odense, full_name="Mikkel Dahl")


@pytest.fixture
def organizer(db) -> User:
    kl, _ = Organization.objects.get_or_create(
        country="DK", kind="other", official_code="KL", defaults={"name": "KL"}
    )
    OrganizationDomain.objects.get_or_create(organization=kl, domain="kl.dk")
    user = make_member("organizer@kl.dk", kl, full_name="Karen Holm")
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["members", "events", "newsletters"])
    )
    from tests.factories import organizer_team

    # A member of the team that runs the events tests/factories.py builds.
    organizer_team().members.add(user)
    return user


@pytest.fixture
def superuser(db) -> User:
    user = User.objects.create_superuser("root@example.org", PASSWORD, full_name="Root", role="other")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth keeps its rate-limit counters in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _commit_hooks_run_per_request(monkeypatch):
    """In production every request commits, and on_commit hooks (the outbox publishing its
    messages) run then. Tests run inside one transaction that never commits, so run the hooks
    at the end of each test-client request, as a commit would."""
    from django.test import Client, TestCase

    original = Client.request

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture(autouse=True)
def _broker_presumed_up():
    """A test that stopped the broker must not make the next ones skip publishing."""
    from mail import publishing

    publishing.presume_broker_up()
    yield
    publishing.presume_broker_up()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request activates the member's language in the thread and leaves it there (each real
    request activates its own); the next test starts in the site's language again."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
