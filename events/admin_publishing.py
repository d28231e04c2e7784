"""Publishing and cancelling one event from its own page, mixed into EventAdmin.

- <id>/publish/ shows the publication checklist (events.checklist) grouped as "must fix",
  "worth a look" and "all good", each item linking to where it is fixed; its Publish button
  (name="confirm", offered only when nothing blocks) publishes through
  lifecycle.publish_event. A GET never publishes.
- <id>/cancel/ says how many people will be told, takes a personal note for the cancellation
  email, and cancels through lifecycle.cancel_event on its button (name="confirm").
- "Save and publish" (name="_publish") on the add and change forms of a draft saves as usual,
  then goes to the publish page; when the checklist has nothing at all to say, it publishes at
  once (the page would only repeat the button the organizer has just pressed).

Only organizers who may change the event reach these pages; another team's event is not found.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import models
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import checklist, selectors
from .errors import EventError
from .models import Event
from .services import lifecycle

# Where on the event's change page each kind of item is fixed: a group of inline rows, else the
# form field of that name.
_INLINE_ANCHORS = {checklist.OCCASIONS: "occasions-group", checklist.PROGRAMME: "agenda_items-group"}


def _anchor(field: str) -> str:
    """The fragment of the change page where `field` is fixed: a group of inline rows, a form
    field's input (the date half of a date and time), or the top of the page."""
    if field in _INLINE_ANCHORS:
        return f"#{_INLINE_ANCHORS[field]}"
    if not field:
        return ""
    split = isinstance(Event._meta.get_field(field), models.DateTimeField)
    return f"#id_{field}_0" if split else f"#id_{field}"


class CancelEventForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Personal note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=gettext_lazy(
            "Added to the cancellation email, for example why, or when you plan to meet instead. Plain text."
        ),
    )


def people_told(counts: dict[str, int]) -> str:
    """How many people a cancellation writes to, in words."""
    if not counts["confirmed"] and not counts["waiting"]:
        return _("Nobody is registered, so no email is sent.")
    return _("%(confirmed)s and %(waiting)s will be told by email.") % {
        "confirmed": ngettext(
            "%(count)d confirmed participant", "%(count)d confirmed participants", counts["confirmed"]
        )
        % {"count": counts["confirmed"]},
        "waiting": ngettext(
            "%(count)d person on the waiting list", "%(count)d people on the waiting list", counts["waiting"]
        )
        % {"count": counts["waiting"]},
    }


class EventPublishing:
    """The publish and cancel pages of one event, and "Save and publish" on its forms."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/publish/", view(self.publish_view), name=f"{name}_publish"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name=f"{name}_cancel"),
            *super().get_urls(),
        ]

    def _change_url(self, event: Event) -> str:
        return reverse(f"{self.admin_site.name}:events_event_change", args=[event.pk])

    def _publish_url(self, event: Event) -> str:
        return reverse(f"{self.admin_site.name}:events_event_publish", args=[event.pk])

    def _page(self, request, event: Event, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": event,
                "event": event,
                "title": title % {"event": event},
                "change_url": self._change_url(event),
                **context,
            },
        )

    # --- publishing ---------------------------------------------------------------------------

    def _publish(self, request, event: Event) -> bool:
        """Publish through the service, log it and say so; False (with the reasons said) when
        the service refuses."""
        try:
            changed = lifecycle.publish_event(event, organizer=request.user)
        except EventError as error:
            self.message_user(request, error.message, messages.ERROR)
            return False
        if changed:
            self.log_change(request, event, _("Published."))
            self.message_user(
                request,
                _("“%(event)s” is published and on the site.") % {"event": event.title},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, _("“%(event)s” was published already.") % {"event": event.title}, messages.INFO
            )
        return True

    def _linked(self, event: Event, items: list[checklist.ChecklistItem]) -> list[dict]:
        change_url = self._change_url(event)
        return [{"item": item, "url": f"{change_url}{_anchor(item.field)}"} for item in items]

    def publish_view(self, request, object_id):
        event = self._event_to_change(request, object_id)
        if request.method == "POST" and "confirm" in request.POST and self._publish(request, event):
            return HttpResponseRedirect(self._change_url(event))
        event.refresh_from_db()
        found = checklist.publication_checklist(event)
        is_draft = event.status == Event.Status.DRAFT
        return self._page(
            request,
            event,
            "admin/events/event/publish.html",
            _("Publish: %(event)s"),
            blocking=self._linked(event, found.blocking),
            warnings=self._linked(event, found.warnings),
            passed=found.passed,
            is_draft=is_draft,
            can_publish=is_draft and not found.blocking,
        )

    # --- "Save and publish" on the event's forms ----------------------------------------------

    def _offers_save_and_publish(self, request, event: Event | None) -> bool:
        if IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET:
            return False
        if event is not None and event.pk is not None and event.status != Event.Status.DRAFT:
            return False
        return self.has_change_permission(request, event)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_save_and_publish"] = self._offers_save_and_publish(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _after_save_and_publish(self, request, event: Event):
        if not checklist.publication_checklist(event) and self._publish(request, event):
            return HttpResponseRedirect(self._change_url(event))
        return HttpResponseRedirect(self._publish_url(event))

    def response_add(self, request, obj, post_url_continue=None):
        # Django's own answer says "added successfully"; only where to go next differs.
        response = super().response_add(request, obj, post_url_continue)
        if "_publish" in request.POST and self._offers_save_and_publish(request, obj):
            return self._after_save_and_publish(request, obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_publish" in request.POST and self._offers_save_and_publish(request, obj):
            return self._after_save_and_publish(request, obj)
        return response

    # --- cancelling ---------------------------------------------------------------------------

    def cancel_view(self, request, object_id):
        event = self._event_to_change(request, object_id)
        cancelled = event.status == Event.Status.CANCELLED
        confirmed = request.method == "POST" and "confirm" in request.POST
        form = CancelEventForm(request.POST if confirmed else None)
        if not cancelled and form.is_valid():
            notified = lifecycle.cancel_event(event, organizer=request.user, note=form.cleaned_data["note"])
            self.log_change(request, event, _("Cancelled."))
            self.message_user(
                request,
                ngettext(
                    "“%(event)s” is cancelled; %(count)d person is told by email.",
                    "“%(event)s” is cancelled; %(count)d people are told by email.",
                    notified,
                )
                % {"event": event.title, "count": notified},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self._change_url(event))
        counts = selectors.people_told_of_cancellation(Event.objects.filter(pk=event.pk))
        return self._page(
            request,
            event,
            "admin/events/event/cancel.html",
            _("Cancel: %(event)s"),
            form=form,
            cancelled=cancelled,
            people_told=people_told(counts),
        )
