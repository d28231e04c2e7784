"""Erasing an account from the User admin, for a member who asks by email (GDPR).

Every way the admin deletes an account (the "Erase account" action, the delete page, and
delete_model/delete_queryset behind them) goes through members.privacy.erase_member, which lets
each app erase its part first: registrations are anonymized (never cascaded away or blocking the
deletion), the newsletter and the outbox rows erased. Organizers may erase exactly the accounts
whose change form they may open; a superuser any account but their own.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import privacy


class AccountErasureAdminMixin:
    """For the User admin (before Django's UserAdmin in the bases)."""

    def has_delete_permission(self, request, obj=None):
        # Deleting is erasing; allowed where changing is (organizers have no delete_user
        # permission, yet must honour a member's request), never one's own account from here.
        if obj is not None and obj.pk == request.user.pk:
            return False
        return self.has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's bulk delete would cascade without the apps' erasers; "Erase account" replaces it.
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        self._erase(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self._erase(request, user)

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, unquote(object_id))
        if user is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_delete_permission(request, user):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("post") == "yes":
            self._erase(request, user)
            self.message_user(request, _("The account was erased."), messages.SUCCESS)
            return redirect(reverse("admin:members_user_changelist"))
        return self._erase_confirmation(request, [user], action="")

    @admin.action(description=gettext_lazy("Erase account (GDPR)"), permissions=["delete"])
    def erase_accounts(self, request, queryset):
        users = [user for user in queryset if self.has_delete_permission(request, user)]
        refused = queryset.count() - len(users)
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected account may not be erased by you.",
                    "%(count)d selected accounts may not be erased by you.",
                    refused,
                )
                % {"count": refused},
                messages.WARNING,
            )
        if not users:
            return None
        if request.POST.get("post") != "yes":
            return self._erase_confirmation(request, users, action="erase_accounts")
        for user in users:
            self._erase(request, user)
        self.message_user(
            request,
            ngettext("Erased %(count)d account.", "Erased %(count)d accounts.", len(users))
            % {"count": len(users)},
            messages.SUCCESS,
        )
        return None

    # --- retention, shown on the change page ---

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "scheduled_deletion"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or privacy.unconfirmed_account_deletion_date(obj) is None:
            return fieldsets
        return [*fieldsets, (gettext_lazy("Retention"), {"fields": ["scheduled_deletion"]})]

    @admin.display(description=gettext_lazy("deletion"))
    def scheduled_deletion(self, user):
        day = privacy.unconfirmed_account_deletion_date(user)
        if day is None:
            return "–"
        return _("The email address was never confirmed: the account will be deleted on %(date)s.") % {
            "date": date_format(day, "DATE_FORMAT")
        }

    # --- helpers ---

    def _erase(self, request, user) -> None:
        user_id = user.pk
        privacy.erase_member(user, actor=request.user)
        # The admin's history keeps that it happened and who did it, not who was erased.
        LogEntry.objects.create(
            user=request.user,
            content_type=ContentType.objects.get_for_model(self.model),
            object_id=str(user_id),
            object_repr=f"#{user_id}",
            action_flag=DELETION,
            change_message=_("Erased on the member's request (GDPR)."),
        )

    def _erase_confirmation(self, request, users, *, action: str) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/members/user/erase_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Erase accounts (GDPR)"),
                "accounts": users,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
