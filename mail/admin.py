from django.contrib import admin, messages
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import retention, sending
from .models import OutgoingMessage, kind_label

Status = OutgoingMessage.Status


def _datetime(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


class KindFilter(admin.AllValuesFieldListFilter):
    """The kinds that occur, by name rather than by template key."""

    def choices(self, changelist):
        kinds = {str(kind) for kind in self.lookup_choices if kind is not None}
        for choice in super().choices(changelist):
            # "login_code", or "login_code (3)" with facets: kinds hold no spaces.
            kind, space, count = str(choice["display"]).partition(" ")
            if kind in kinds:
                choice = {**choice, "display": kind_label(kind) + space + count}
            yield choice


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "subject",
        "kind_label",
        "status",
        "attempts",
        "sent_at",
        "last_error_short",
    ]
    list_filter = ["status", ("kind", KindFilter), "language"]
    search_fields = ["recipient", "subject", "idempotency_key"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [*(field.name for field in OutgoingMessage._meta.fields), "body_removal"]

    def get_queryset(self, request):
        # Organizers see the messages about their teams' events, never account emails.
        return super().get_queryset(request).visible_to(request.user)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.sensitive:
            # Sign-in codes and password-reset links are for the member alone: an organizer
            # reading them could take over the account.
            return [name for name in fields if name not in ("body_text", "body_html")]
        return fields

    def has_add_permission(self, request):
        return False  # messages are written by the portal's services, never by hand

    def has_delete_permission(self, request, obj=None):
        return False  # the record is what proves a message was (or was not) sent

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, message):
        return kind_label(message.kind)

    @admin.display(description=_("body removal"))
    def body_removal(self, message):
        if message.body_removed_at is not None:
            return _("Removed on %(date)s") % {"date": _datetime(message.body_removed_at)}
        due = _datetime(retention.body_removal_due(message))
        if message.sensitive and message.status in (Status.PENDING, Status.SENDING):
            return _("When it is sent, at the latest on %(date)s") % {"date": due}
        return _("On %(date)s") % {"date": due}

    @admin.display(description=_("last error"))
    def last_error_short(self, message):
        return message.last_error[:80]

    @admin.action(description=_("Send the selected failed messages again"), permissions=["change"])
    def resend(self, request, queryset):
        count = sum(sending.resend(message) for message in queryset)
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
