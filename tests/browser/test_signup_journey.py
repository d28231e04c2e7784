"""A new member's first visit, in each of the portal's languages, in a real Chromium."""

import pytest
from django.utils import translation

from members.models import Organization, User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.parametrize(
    "language, email, pick, verified",
    [
        # The domain names exactly one organization: set and verified by the address.
        ("en", "new.planner@aarhus.dk", None, True),
        # A domain all county boards share: the member picks one, and the pick is verified.
        ("sv", "ny.planerare@lansstyrelsen.se", ("SE", "county_board", "12"), True),
        # A private address: any organization, unverified until an organizer verifies it.
        ("da", "konsulent@private.example", ("DK", "municipality", "461"), False),
    ],
)
def test_sign_up_verify_complete_profile_and_switch_language(portal, language, email, pick, verified):
    page = portal.open("/")
    portal.switch_language(language)
    portal.assert_accessible()

    page.locator("header a[href='/accounts/signup/']").click()
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    portal.assert_accessible()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")

    # The link in the message shows a button; pressing it confirms and signs in.
    portal.open(portal.confirmation_link(email))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/profile/edit/**")
    assert page.locator("h1").inner_text() == _t(language, "Complete your profile")
    portal.assert_accessible()

    page.fill("#id_full_name", "Ny Medlem")
    if pick is not None:
        country, kind, code = pick
        organization = Organization.objects.get(country=country, kind=kind, official_code=code)
        page.select_option("#id_organization", str(organization.pk))
    page.select_option("#id_role", "transport_planner")
    page.fill("#id_job_title", "Planner")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(portal.url + "/")

    user = User.objects.get(email=email)
    assert user.profile_complete
    assert user.organization_verified is verified
    assert user.preferred_language == language

    portal.open("/profile/")
    badge = _t(language, "verified") if verified else _t(language, "awaiting verification by an organizer")
    assert page.locator("main .badge").inner_text() == badge
    portal.assert_accessible()

    # Switching language while signed in is remembered on the profile.
    other = "da" if language != "da" else "sv"
    portal.switch_language(other)
    user.refresh_from_db()
    assert user.preferred_language == other
    assert page.locator("h1").inner_text() == _t(other, "My profile")


@pytest.mark.parametrize("language", ["en", "da", "sv"])
def test_sign_in_with_a_one_time_code(portal, member, language):
    portal.open("/")
    portal.switch_language(language)
    page = portal.open("/accounts/login/")
    page.locator("main a[href^='/accounts/login/code/']").click()
    page.fill("#id_email", member.email)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/login/code/confirm/")
    page.fill("#id_code", portal.login_code(member.email))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(portal.url + "/")
    assert member.full_name in page.locator("header .login-state").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"  # the member's own preference wins


@pytest.mark.parametrize("language", ["en", "da", "sv"])
def test_organizer_verifies_a_membership_in_admin(portal, organizer, unverified_member, language):
    organizer.preferred_language = language
    organizer.save()
    page = portal.open("/accounts/login/")
    page.fill("#id_login", organizer.email)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(portal.url + "/")

    portal.open("/admin/members/user/?membership=unverified")
    page.locator(f"input[name=_selected_action][value='{unverified_member.pk}']").check()
    page.select_option("select[name=action]", "verify_membership")
    page.locator("button[name=index]").click()
    page.wait_for_load_state()
    with translation.override(language):
        expected = translation.ngettext(
            "Verified %(count)d membership.", "Verified %(count)d memberships.", 1
        )
    assert page.locator("ul.messagelist").inner_text().strip() == expected % {"count": 1}
    unverified_member.refresh_from_db()
    assert unverified_member.organization_verified
    assert unverified_member.organization_verified_by == organizer
