from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "network_portal.outbox"
    label = "outbox"
    verbose_name = _("Outgoing email")

    def ready(self) -> None:
        # The project's own deployment checks (links in every email depend on SITE_URL).
        from network_portal import checks  # noqa: F401
