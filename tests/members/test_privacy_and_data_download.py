"""Members' data rights, reading: the privacy page and the download of one's data."""

import json
import re

import pytest
from django.conf import settings
from django.urls import reverse

from events.models import Registration
from events.services import attendance
from events.services import registrations as event_registrations
from members import services as member_services
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)


# ---------------------------------------------------------------------------------------------
# The privacy page


@pytest.mark.parametrize("language", ["en", "da", "sv"])
def test_privacy_page_is_served_in_each_language(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("privacy"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert settings.PRIVACY_CONTACT_EMAIL in page
    assert str(settings.RETENTION_NEEDS_DAYS) in page
    evaluations = {"en": "evaluations", "da": "evalueringer", "sv": "utvärderingar"}[language]
    assert page.count(evaluations) >= 2  # what is kept, and what stays of it after a deletion


def test_privacy_page_names_the_contact_and_retention_from_settings(client, settings):
    settings.PRIVACY_CONTACT_EMAIL = "dpo@network.example"
    settings.RETENTION_NEEDS_DAYS = 45
    settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS = 9
    page = client.get(reverse("privacy")).content.decode()
    assert 'href="mailto:dpo@network.example"' in page
    assert "erased 45 days after the event ends" in page
    assert "deleted after 9 days" in page


def test_privacy_page_is_linked_from_the_footer_and_the_sign_up_form(client):
    privacy_link = f'href="{reverse("privacy")}"'
    footer = client.get(reverse("home")).content.decode().split('<footer class="site-footer">')[1]
    assert privacy_link in footer
    signup = client.get(reverse("account_signup")).content.decode()
    assert privacy_link in signup
    assert 'name="password1"' in signup  # allauth's form is still there


def test_privacy_page_is_readable_before_the_profile_is_complete(client):
    newcomer = make_member("newcomer@aarhus.dk")
    client.force_login(newcomer)
    assert client.get(reverse("privacy")).status_code == 200


# ---------------------------------------------------------------------------------------------
# Download my data


def test_download_is_one_json_attachment_with_profile_organization_and_registrations(
    client, member, other_member, organizer
):
    event = factories.event(title="Charging hubs")
    registration = event_registrations.register(member, event.occasions.get(), diet="vegan", listed=True)
    attendance.record_one(registration, True, organizer=organizer, at=registration.occasion.starts_at)
    event_registrations.register(other_member, event.occasions.get(), diet="halal")
    client.force_login(member)

    response = client.get(reverse("members:download_data"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert re.match(
        r'attachment; filename="my-data-\d{4}-\d{2}-\d{2}\.json"', response["Content-Disposition"]
    )
    data = json.loads(response.content)
    assert data["profile"]["email"] == member.email
    assert data["profile"]["full_name"] == "Jens Kristensen"
    assert data["profile"]["email_addresses"] == [{"email": member.email, "verified": True, "primary": True}]
    assert data["organization"]["name"] == member.organization.name
    assert data["organization"]["verified"] is True
    assert data["organization"]["verified_by"] == "domain"
    [exported] = data["registrations"]
    assert exported["event"] == "Charging hubs"
    assert exported["status"] == CONFIRMED
    assert exported["dietary_needs"] == "vegan"
    assert exported["listed_on_participant_list"] is True
    assert exported["attended"] is True
    assert [(entry["action"], entry["by"]) for entry in exported["log"]] == [
        ("confirmed", "you"),
        ("attendance", "organizer"),
    ]
    # Only the member's own data: no other participant, no organizer's address.
    body = response.content.decode()
    assert other_member.email not in body and "halal" not in body
    assert organizer.email not in body


def test_download_says_an_organizer_verified_the_membership(client, unverified_member, organizer):
    member_services.verify_membership(unverified_member, organizer)
    client.force_login(unverified_member)
    data = json.loads(client.get(reverse("members:download_data")).content)
    assert data["organization"]["verified_by"] == "organizer"
    assert organizer.email not in json.dumps(data)


def test_download_contains_every_registered_holder(client, member, extra_holder):
    extra_holder("newsletter", export=lambda user: {"status": "active", "email": user.email}, order=200)
    extra_holder("emails", export=lambda user: [{"subject": "Welcome"}], order=900)
    client.force_login(member)
    data = json.loads(client.get(reverse("members:download_data")).content)
    assert data["newsletter"] == {"status": "active", "email": member.email}
    assert data["emails"] == [{"subject": "Welcome"}]


def test_download_needs_a_signed_in_member(client):
    response = client.get(reverse("members:download_data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_profile_links_to_download_and_delete(client, member):
    client.force_login(member)
    page = client.get(reverse("members:profile")).content.decode()
    assert reverse("members:download_data") in page
    assert reverse("members:delete_account") in page
    assert reverse("privacy") in page
