"""Accounts through django-allauth, with the portal's rules around them."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from members.models import User
from tests.conftest import PASSWORD, confirmation_path, sign_up_and_confirm

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _sign_up(client, email):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_sign_up_needs_email_verification_before_login(client):
    response = _sign_up(client, "new@aarhus.dk")
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1
    client.logout()

    response = client.post(reverse("account_login"), {"login": "new@aarhus.dk", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_opening_the_confirmation_link_only_shows_a_button(client):
    _sign_up(client, "new@aarhus.dk")
    path = confirmation_path(mail.outbox[0])
    response = client.get(path)
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert not EmailAddress.objects.get(email="new@aarhus.dk").verified


def test_confirmed_member_completes_the_profile_before_anything_else(client, aarhus):
    user = sign_up_and_confirm(client, "new@aarhus.dk")
    assert "_auth_user_id" in client.session
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("members:edit") + "?next=%2F"

    response = client.get(response.url)
    assert response.status_code == 200
    # The domain proved the organization: it is the only choice.
    assert re.findall(r'<option value="(\d+)"', response.text) == [str(aarhus.pk)]

    response = client.post(
        reverse("members:edit"),
        {
            "full_name": "Ny Planlægger",
            "organization": aarhus.pk,
            "role": "transport_planner",
            "job_title": "Mobilitetsplanlægger",
            "preferred_language": "da",
            "next": "/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/"
    user.refresh_from_db()
    assert user.profile_complete and user.organization_verified
    assert client.get(reverse("home")).status_code == 200


def test_profile_form_refuses_bad_input_next_to_the_field_and_saves_nothing(client, aarhus, odense):
    user = sign_up_and_confirm(client, "new@aarhus.dk")
    response = client.post(
        reverse("members:edit"),
        {"full_name": "", "organization": odense.pk, "role": "astronaut", "preferred_language": "xx"},
    )
    assert response.status_code == 200
    assert response.text.count("invalid-feedback") >= 3
    assert "Choose one of the organizations in the list." in response.text
    user.refresh_from_db()
    assert user.full_name == "" and user.role == ""
    # Aarhus is still the organization the verified address proved.
    assert user.organization == aarhus

    response = client.post(reverse("members:edit"), {"organization": "not-a-number"})
    assert response.status_code == 200


def test_profile_form_ignores_a_next_url_to_another_site(client, aarhus):
    sign_up_and_confirm(client, "new@aarhus.dk")
    response = client.post(
        reverse("members:edit"),
        {
            "full_name": "A B",
            "organization": aarhus.pk,
            "role": "manager",
            "preferred_language": "en",
            "next": "https://evil.example/",
        },
    )
    assert response.url == reverse("home")


def test_login_by_one_time_code(client, member):
    response = client.post(reverse("account_request_login_code"), {"email": member.email})
    assert response.status_code == 302
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", mail.outbox[-1].body).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)


def test_a_wrong_code_does_not_log_in(client, member):
    client.post(reverse("account_request_login_code"), {"email": member.email})
    response = client.post(reverse("account_confirm_login_code"), {"code": "WRONG1"})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_password_reset_sends_a_link(client, member):
    response = client.post(reverse("account_reset_password"), {"email": member.email})
    assert response.status_code == 302
    assert "/accounts/password/reset/key/" in mail.outbox[-1].body


def test_failed_logins_are_rate_limited(client, member):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": member.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.text


def test_email_change_re_verifies_membership(client, member, odense):
    client.force_login(member)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "planner@odense.dk"})
    assert response.status_code == 302
    client.post(confirmation_path(mail.outbox[-1]))
    member.refresh_from_db()
    assert member.email == "planner@odense.dk"
    assert member.organization == odense
    assert member.organization_verified


def test_logout_needs_a_post(client, member):
    client.force_login(member)
    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_account_pages_use_the_portal_layout_and_crispy_forms(client):
    response = client.get(reverse("account_signup"))
    assert 'class="skip-link"' in response.text
    assert 'class="form-label requiredField"' in response.text
    assert User.objects.count() == 0
