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


@register(Tags.caches, deploy=True)
def cache_is_shared(app_configs, **kwargs):
    # Rate limits and the version of the public pages (network_portal.page_cache) must be the
    # same for every process: with a cache per process a change renews the pages of one only.
    if settings.PAGE_CACHE_SECONDS and settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        return [
            Warning(
                "CACHE_URL is a cache of each process's own.",
                hint="Set CACHE_URL=dbcache://portal_cache (after manage.py createcachetable) or "
                "redis://…, or PAGE_CACHE_SECONDS=0 if only one process serves the portal.",
                id="portal.W002",
            )
        ]
    return []
