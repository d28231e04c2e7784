"""The evaluation page a participant reaches through the signed link of the follow-up email
(events.evaluation_links): no sign-in, one answer per registration, changeable until the
evaluation closes. Thin: the rule and the saving are events.services.evaluations'."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import evaluation_links, selectors
from .errors import RegistrationError
from .forms import EvaluationForm
from .rules import evaluation_closes
from .services import evaluations


@require_http_methods(["GET", "POST"])
def evaluation(request, token: str):
    registration = evaluation_links.registration_for(token)
    if registration is None:
        raise Http404
    existing = selectors.evaluation_of(registration)
    items = selectors.evaluated_items(registration.event)
    refusal = None
    try:
        evaluations.check_may_evaluate(registration, timezone.now())
    except RegistrationError as error:
        refusal = error.message
    form = EvaluationForm(
        request.POST if request.method == "POST" and refusal is None else None,
        items=items,
        initial=selectors.evaluation_initial(existing),
    )
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                evaluations.evaluate(
                    registration,
                    rating=form.cleaned_data["rating"],
                    item_ratings=form.item_ratings(),
                    take_home=form.cleaned_data["take_home"],
                    theme_wish=form.cleaned_data["theme_wish"],
                )
            except RegistrationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Thank you for your evaluation."))
                return redirect(request.path)
        status = 400
    elif request.method == "POST":
        status = 400  # the evaluation is closed: the page says so
    return render(
        request,
        "events/evaluation.html",
        {
            "registration": registration,
            "event": registration.event,
            "occasion": registration.occasion,
            "form": form,
            "refusal": refusal,
            "existing": existing,
            "closes": evaluation_closes(registration.occasion),
        },
        status=status,
    )
