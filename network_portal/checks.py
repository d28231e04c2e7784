"""Deployment checks of the portal's own settings, run by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(app_configs, **kwargs):
    # Links in emails (confirmations, RFC 8058 one-click unsubscribe, calendar feeds) are built
    # from SITE_URL; mail providers only honour one-click unsubscribe over HTTPS.
    if not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                "SITE_URL is not an https:// address.",
                hint="Set SITE_URL to the portal's public HTTPS address, e.g. https://portal.example.org.",
                id="portal.W001",
            )
        ]
    return []
