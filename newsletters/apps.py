from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = _("Newsletters")

    def ready(self) -> None:
        from members import privacy
        from network_portal.outbox import services as outbox

        from . import data_rights
        from .models import Subscriber

        def _alert_still_wanted(message) -> bool:
            # An alert queued before its subscriber unsubscribed (or turned alerts off) stays unsent.
            return Subscriber.objects.active().filter(email=message.recipient, event_alerts=True).exists()

        outbox.register_suppression("event_alert", _alert_still_wanted)
        # After the registrations' eraser (order 100), before the outbox rows' own.
        privacy.register("newsletter", export=data_rights.export, erase=data_rights.erase, order=200)
