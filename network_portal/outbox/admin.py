from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import OutgoingMessage


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "subject",
        "kind",
        "status",
        "attempts",
        "sent_at",
        "last_error_short",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["recipient", "subject", "idempotency_key"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [field.name for field in OutgoingMessage._meta.fields]

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

    @admin.display(description=_("last error"))
    def last_error_short(self, message):
        return message.last_error[:80]

    @admin.action(description=_("Send the selected failed messages again"), permissions=["change"])
    def resend(self, request, queryset):
        count = sum(services.resend(message) for message in queryset)
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
