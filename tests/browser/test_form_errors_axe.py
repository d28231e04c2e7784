"""Issue 11 (EU web accessibility directive): every form a member fills in, shown with its errors,
in English, Danish and Swedish, has no axe-core violation (assert_accessible counts all of them,
serious and critical included). Errors are where accessibility breaks most often: messages not
tied to their field, colour alone, contrast of red text."""

import pytest
from django.conf import settings

from members.models import User
from tests import factories
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

LANGUAGES = [code for code, _ in settings.LANGUAGES]
ERRORS = "main .invalid-feedback, main .errorlist, main .alert-danger, main [aria-invalid=true]"
TOO_LONG = "Rampe ved indgangen. " * 12  # over the 200 characters the needs fields take


def _without_browser_validation(page) -> None:
    # The server's messages are what is tested; the browser's own bubbles would stop the post.
    page.evaluate(
        "document.querySelectorAll('form').forEach(form => { form.noValidate = true; });"
        "document.querySelectorAll('[maxlength]').forEach(field => field.removeAttribute('maxlength'));"
    )


def _submit(page, form_selector: str) -> None:
    _without_browser_validation(page)
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def _assert_errors_shown_and_accessible(portal, language: str) -> None:
    page = portal.page
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator(ERRORS).count() > 0, page.url
    portal.assert_accessible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_up_sign_in_reset_and_newsletter_forms_with_errors(portal, language):
    portal.page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": portal.url}]
    )
    portal.open("/accessibility/")
    portal.assert_accessible()

    page = portal.open("/accounts/signup/")
    page.fill("#id_email", "not an address")
    _submit(page, "main form:has(#id_email)")
    _assert_errors_shown_and_accessible(portal, language)

    page = portal.open("/newsletter/")
    page.fill("main input[type=email]", "also@not@valid")
    _submit(page, "main form:has(input[type=email])")
    _assert_errors_shown_and_accessible(portal, language)

    page = portal.open("/accounts/login/")
    page.fill("#id_login", "nobody@example.org")
    page.fill("#id_password", "not the password")
    _submit(page, "main form:has(#id_login)")
    _assert_errors_shown_and_accessible(portal, language)

    page = portal.open("/accounts/password/reset/")
    page.fill("#id_email", "not an address")
    _submit(page, "main form:has(#id_email)")
    _assert_errors_shown_and_accessible(portal, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_profile_and_registration_forms_with_errors(portal, member, language):
    User.objects.filter(pk=member.pk).update(preferred_language=language)
    event = factories.event(title="Axe workshop", capacities=(20, 20))
    page = portal.open("/accounts/login/")
    page.fill("#id_login", member.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    page = portal.open("/profile/edit/")
    page.fill("#id_full_name", "")
    _submit(page, "main form:has(#id_full_name)")
    _assert_errors_shown_and_accessible(portal, language)

    page = portal.open(event.get_absolute_url())
    occasion = event.occasions.order_by("starts_at").first()
    radio = page.locator(f"main input[name=occasion][value='{occasion.pk}']")
    if radio.count():  # the registration form on the event page
        radio.check()
    else:  # a date button leading to a confirmation step
        with page.expect_navigation():
            page.locator(f"main a[href$='/register/{occasion.pk}/']").first.click()
    _without_browser_validation(page)
    page.fill("#id_accessibility", TOO_LONG)
    _submit(page, "main form[action$='/register/']")
    _assert_errors_shown_and_accessible(portal, language)
