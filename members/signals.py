from allauth.account.signals import email_changed, email_confirmed, user_logged_in
from django.dispatch import receiver

from . import services


@receiver(email_confirmed)
def _membership_after_confirmation(sender, request, email_address, **kwargs):
    user = email_address.user
    # allauth confirms an address before making it primary on an email change; only the
    # primary address (the login) speaks for membership.
    if email_address.email.lower() == user.email.lower():
        services.apply_email_domain(user)


@receiver(email_changed)
def _membership_after_email_change(sender, request, user, from_email_address, to_email_address, **kwargs):
    user.refresh_from_db()
    services.apply_email_domain(user)


@receiver(user_logged_in)
def _remember_language_of_first_login(sender, request, user, **kwargs):
    # A member who signed up in Danish keeps Danish until choosing otherwise.
    if not user.preferred_language and getattr(request, "LANGUAGE_CODE", None):
        user.preferred_language = request.LANGUAGE_CODE
        user.save(update_fields=["preferred_language"])


def sync_site_from_settings(sender, using="default", **kwargs):
    """Keep the Site row in step with NETWORK_NAME and SITE_URL on every migrate, for code that
    reads it outside a request. Requests and account emails read the settings as they are
    while the portal runs (network_portal.middleware.SiteFromSettingsMiddleware,
    mail.links.current_site), so a changed SITE_URL needs no migrate."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.sites.models import Site

    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlsplit(settings.SITE_URL).netloc, "name": settings.NETWORK_NAME},
    )


def sync_organizer_group(sender, **kwargs):
    """migrate sends post_migrate once per app with models, in INSTALLED_APPS order, and creates
    each app's permissions in an earlier receiver of the same signal: after the last app's, the
    permissions every app registered for organizers exist."""
    from django.apps import apps

    apps_with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is apps_with_models[-1]:
        services.ensure_organizer_group()
