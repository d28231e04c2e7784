"""The evaluation results of one event, mixed into EventAdmin: for the whole event or one of its
occasions, the rating of the whole and of each programme item (average, answers, how many gave
each rating, as bars with their numbers), what participants take home and the themes they wish
for, without names; and the same as an Excel workbook. Read by events.evaluation_selectors. Below
them the follow-up email that links to the evaluation, as a participant gets it (follow_ups.preview)."""

from __future__ import annotations

from csp.decorators import csp_update
from django import forms
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from members.exports import Sheet, xlsx_download

from . import evaluation_selectors, follow_ups
from .models import RATINGS, Event, Occasion


class OccasionForm(forms.Form):
    occasion = forms.ModelChoiceField(
        label=gettext_lazy("Occasion"),
        queryset=Occasion.objects.none(),
        required=False,
        empty_label=gettext_lazy("All occasions"),
    )

    def __init__(self, data, *, event: Event):
        super().__init__(data)
        self.fields["occasion"].queryset = event.occasions.all()
        self.fields["occasion"].label_from_instance = lambda occasion: occasion.display_label

    def chosen(self) -> Occasion | None:
        return self.cleaned_data["occasion"] if self.is_valid() else None


def _sheets(results: evaluation_selectors.Results, title: str) -> list[Sheet]:
    header = [_("Question"), _("Answers"), _("Average"), *(str(rating) for rating in RATINGS)]
    ratings = [results.whole, *results.items]
    return [
        Sheet(
            _("Ratings"),
            header,
            (
                [rating.label or _("The event as a whole"), rating.answers, rating.average]
                + [count for _rating, count in rating.spread]
                for rating in ratings
            ),
        ),
        Sheet(_("What they take home"), [_("Answer")], ([text] for text in results.take_home)),
        Sheet(_("Theme wishes"), [_("Answer")], ([text] for text in results.theme_wishes)),
        Sheet(
            _("About"),
            [],
            [
                [title],
                [
                    _("Answered: %(answers)s of %(participants)s participants (%(rate)s %%).")
                    % {
                        "answers": results.answers,
                        "participants": results.participants,
                        "rate": results.response_rate,
                    }
                ],
            ],
        ),
    ]


class EventEvaluations:
    """EventAdmin's evaluation pages, for organizers who see the event and its registrations."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/evaluations/", view(self.evaluations_view), name=f"{name}_evaluations"),
            path(
                "<path:object_id>/evaluations.xlsx",
                view(self.evaluations_xlsx_view),
                name=f"{name}_evaluations_xlsx",
            ),
            *super().get_urls(),
        ]

    def _results(self, request, object_id):
        # The same rule as the participant list: the event's team, with the registrations' view.
        event = self._event_for_page(request, object_id, with_participants=True)
        form = OccasionForm(request.GET or None, event=event)
        occasion = form.chosen()
        return event, form, occasion, evaluation_selectors.results(event, occasion)

    # The follow-up's preview frame (srcdoc inherits this page's policy) needs the email's style
    # attributes, as on the message page; they run no script.
    @csp_update({"style-src-attr": ["'unsafe-inline'"]})
    def evaluations_view(self, request, object_id):
        event, form, occasion, results = self._results(request, object_id)
        return TemplateResponse(
            request,
            "admin/events/event/evaluations.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": event,
                "event": event,
                "title": _("Evaluations: %(event)s") % {"event": event},
                "form": form,
                "occasion": occasion,
                "results": results,
                "query": request.GET.urlencode(),
                "follow_up": follow_ups.preview(event, occasion, request.user, get_language()),
            },
        )

    def evaluations_xlsx_view(self, request, object_id):
        event, _form, occasion, results = self._results(request, object_id)
        title = f"{event.title} – {occasion.display_label}" if occasion else event.title
        return xlsx_download(_sheets(results, title), f"{event.slug}-evaluations")
