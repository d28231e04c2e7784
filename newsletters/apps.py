from django.apps import AppConfig
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = _("Newsletters")

    def ready(self) -> None:
        from mail import sending
        from members import privacy, registry

        from . import data_rights, demo, tasks  # noqa: F401 (delivery publishes the tasks by name)
        from .models import Subscriber

        def _alert_still_wanted(message) -> bool:
            # An alert queued before its subscriber unsubscribed (or turned alerts off) stays unsent.
            return Subscriber.objects.active().filter(email=message.recipient, event_alerts=True).exists()

        sending.register_suppression("event_alert", _alert_still_wanted)
        # After the registrations' eraser (order 100), before the outbox rows' own.
        privacy.register("newsletter", export=data_rights.export, erase=data_rights.erase, order=200)

        registry.register_organizer_permissions("newsletters")  # editions, subscribers, all of it
        registry.register_profile_panel("newsletters/_profile_subscribe.html")
        # The signed links in newsletters (confirm, preferences, unsubscribe) act for a
        # subscriber, not for the signed-in member: they work before the profile is complete.
        registry.register_open_path(reverse_lazy("newsletters:subscribe"))  # the app's root
        # After the events' demo (order 100): the edition is about their themes.
        registry.register_demo("newsletter", demo.seed, order=200)
