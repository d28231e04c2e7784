"""Subscribers and their consent records in admin. Organizers read, export, import,
unsubscribe and erase here; every change goes through newsletters.services. Nobody sets a
subscriber active by hand or adds one (the status is read-only, and there is no add form):
only the person's own confirmation, or an import naming the consent collected elsewhere, may
make an address active, and an import never touches a known, unsubscribed or erased address.
Deleting a subscriber, from its page or as a list action, is services.erasure.erase_subscriber."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.exports import csv_download

from .forms import ImportForm
from .models import Consent, Subscriber
from .services import erasure, imports, subscriptions


def export_csv(subscribers, stem: str = "subscribers") -> HttpResponse:
    return csv_download(imports.EXPORT_COLUMNS, imports.export_rows(subscribers), stem)


class SubscriberAdminForm(forms.ModelForm):
    class Meta:
        model = Subscriber
        fields = ["language", "all_topics", "topics", "event_alerts"]

    def clean(self):
        data = super().clean()
        if "topics" not in self.errors:
            try:
                subscriptions.check_topics(data.get("topics") or [], bool(data.get("all_topics")))
            except subscriptions.SubscriptionError as error:
                self.add_error("topics", error.message)
        return data


class ConsentInline(admin.TabularInline):
    model = Consent
    fields = ["at", "action", "source", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "status",
        "language",
        "topics_summary",
        "event_alerts",
        "created_at",
        "confirmed_at",
    ]
    list_filter = ["status", "language", "topics", "all_topics", "event_alerts"]
    search_fields = ["email", "user__full_name"]
    date_hierarchy = "created_at"
    fields = [
        "email",
        "user",
        "status",
        "language",
        "all_topics",
        "topics",
        "event_alerts",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "bounce_count",
    ]
    # The email is what the consent was given for; a new address needs its own opt-in.
    readonly_fields = [
        "email",
        "user",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "bounce_count",
    ]
    filter_horizontal = ["topics"]
    form = SubscriberAdminForm
    inlines = [ConsentInline]
    actions = ["export_selected_csv", "unsubscribe_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    @admin.display(description=gettext_lazy("topics"))
    def topics_summary(self, subscriber: Subscriber) -> str:
        if subscriber.all_topics:
            return _("All topics")
        return ", ".join(theme.display_name for theme in subscriber.topics.all()) or "–"

    # Subscribers come from the sign-up form, the profile page or an import, each with its
    # consent record; never from a blank admin form.
    def has_add_permission(self, request):
        return False

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.add_{self.opts.model_name}")

    def save_model(self, request, obj, form, change):
        # Saved by subscriptions.update_preferences in save_related, with its consent record.
        pass

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        subscriptions.update_preferences(
            form.instance,
            topics=data["topics"],
            all_topics=data["all_topics"],
            language=data["language"],
            event_alerts=data["event_alerts"],
            source=f"admin: {request.user.email}",
        )
        form.instance.refresh_from_db()
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # Deleting a subscriber is the erasure a person asks for (GDPR), with its suppression entry:
    # a delete that only removed the row would let the next import bring the address back.
    def delete_model(self, request, obj):
        erasure.erase_subscriber(obj.email)

    def delete_queryset(self, request, queryset):
        for email in list(queryset.values_list("email", flat=True)):
            erasure.erase_subscriber(email)

    def get_deleted_objects(self, objs, request):
        # Erasing a subscriber erases its consent records with it, though nobody may delete
        # a consent record on its own.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(Consent._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    # --- actions ---

    @admin.action(description=gettext_lazy("Export selected to CSV"), permissions=["view"])
    def export_selected_csv(self, request, queryset):
        return export_csv(queryset)

    @admin.action(description=gettext_lazy("Unsubscribe selected"), permissions=["change"])
    def unsubscribe_selected(self, request, queryset):
        count = 0
        for subscriber in queryset.exclude(status=Subscriber.Status.UNSUBSCRIBED):
            subscriptions.unsubscribe(subscriber, source=f"admin: {request.user.email}")
            count += 1
        self.message_user(
            request,
            ngettext("Unsubscribed %(count)d address.", "Unsubscribed %(count)d addresses.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    # --- import ---

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{name}_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            result = imports.import_subscribers(
                data["file"], source=data["source"], consent_text=data["consent_text"]
            )
            if result.ok and not result.skipped:
                self.message_user(request, _imported_message(result.created), messages.SUCCESS)
                return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return TemplateResponse(
            request,
            "admin/newsletters/subscriber/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Import subscribers"),
                "form": form,
                "result": result,
                "imported_message": _imported_message(result.created) if result and result.ok else "",
                "media": self.media + form.media,
            },
        )


def _imported_message(count: int) -> str:
    return ngettext("Imported %(count)d subscriber.", "Imported %(count)d subscribers.", count) % {
        "count": count
    }


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """The consent trail is evidence: nobody writes or rewrites it by hand."""

    list_display = ["subscriber", "action", "source", "at"]
    list_filter = ["action"]
    search_fields = ["subscriber__email", "source"]
    date_hierarchy = "at"
    list_select_related = ["subscriber"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
