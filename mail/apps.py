from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "mail"
    label = "outbox"
    verbose_name = _("Outgoing email")

    def ready(self) -> None:
        from members import privacy, registry

        # The project's own deployment checks (links in every email depend on SITE_URL).
        from network_portal import checks  # noqa: F401

        from . import retention, tasks  # noqa: F401 (services publishes the tasks by name)

        # After the registrations (order 100): the cancellation notices their erasure writes
        # to the member are erased here with every other message to them.
        privacy.register(
            "emails", export=retention.export_for_user, erase=retention.erase_for_user, order=900
        )
        # Organizers read the outbox and may send a failed message again; the rows stay the
        # outbox's to write.
        registry.register_organizer_permissions("outbox", ["view_outgoingmessage", "change_outgoingmessage"])
