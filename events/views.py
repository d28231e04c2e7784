"""Event pages for visitors and members (organizers work in admin): the events, a series and a
theme to read; registering, moving and cancelling one's own registrations; a coordinator's
seats. Thin: reading goes through events.selectors, every change through events.services, and
each refusal comes back as a message next to the form."""

from pathlib import Path

from csp.decorators import csp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.models import User
from network_portal.page_cache import public_page, shared_parts

from . import evaluation_links, selectors, uploads
from .calendar import calendar_feed_for
from .errors import RegistrationError
from .forms import ConfirmRegistrationForm, MoveForm, RegistrationForm
from .models import Event, Registration
from .permissions import may_act_for
from .rules import cancellation_deadline
from .services import evaluations, registrations


def _registration_for(request, pk: int) -> Registration:
    """The registration if the signed-in member may act on it (own, a coordinator's colleague,
    or an organizer); 404 otherwise, so that nobody learns others' registrations exist."""
    registration = get_object_or_404(selectors.registrations_with_people(), pk=pk)
    if not may_act_for(request.user, registration.user, event_id=registration.event_id):
        raise Http404
    return registration


def outcome_message(registration: Registration) -> str:
    occasion = registration.occasion.display_label
    if registration.standing == Registration.Standing.EVENT_CANCELLED:
        return _(
            "You were registered for %(occasion)s. The event is cancelled, so your registration "
            "has lapsed; there is nothing you need to do."
        ) % {"occasion": occasion}
    if registration.status == Registration.Status.CONFIRMED:
        return _("You have a seat on %(occasion)s.") % {"occasion": occasion}
    position = selectors.waitlist_position(registration)
    reason = registration.wait_reason
    if reason == Registration.WaitReason.UNVERIFIED:
        return _(
            "An organizer has not yet verified that you work at %(organization)s, so you are on the "
            "waiting list for %(occasion)s (number %(position)d) until then."
        ) % {"organization": registration.organization, "occasion": occasion, "position": position}
    if reason == Registration.WaitReason.QUOTA:
        return _(
            "The seats set aside for %(organization)s are taken. You are number %(position)d on the waiting "
            "list for %(occasion)s and get a seat if a colleague cancels or unused seats are released."
        ) % {"organization": registration.organization, "occasion": occasion, "position": position}
    return _("%(occasion)s is full. You are number %(position)d on its waiting list.") % {
        "occasion": occasion,
        "position": position,
    }


def expected_outcome(choice: selectors.OccasionChoice, user: User) -> str:
    """What registering for the chosen occasion will give, told before the member confirms."""
    occasion = choice.occasion.display_label
    reason = choice.wait_reason
    if reason == Registration.WaitReason.UNVERIFIED:
        return _(
            "An organizer has not yet verified that you work at %(organization)s, so you will join the "
            "waiting list for %(occasion)s until then."
        ) % {"organization": user.organization, "occasion": occasion}
    if reason == Registration.WaitReason.QUOTA:
        return _(
            "The seats set aside for %(organization)s are taken, so you will join the waiting list for "
            "%(occasion)s. You get a seat if a colleague cancels or unused seats are released."
        ) % {"organization": user.organization, "occasion": occasion}
    if reason == Registration.WaitReason.FULL:
        return _(
            "%(occasion)s is full, so you will join its waiting list. You get a seat if someone cancels."
        ) % {"occasion": occasion}
    return _("You will get a seat on %(occasion)s.") % {"occasion": occasion}


def _registration_panel(event: Event) -> str:
    # After a change the page opens at the registration panel, which states the outcome: one
    # message, not a second copy of it at the top of the page.
    return event.get_absolute_url() + "#registration-heading"


@require_GET
@public_page(until=lambda request, slug: selectors.next_moment_of_event(slug))
def event_detail(request, slug: str):
    return _event_page(request, slug)


def _event_page(request, slug: str, form: RegistrationForm | None = None, status: int = 200):
    try:
        event, shared = _event_and_shared_parts(slug, request.user)
    except Event.DoesNotExist:
        raise Http404 from None
    context = _detail_context(request, event, shared, form)
    return render(request, "events/event_detail.html", context, status=status)


def _detail_context(request, event: Event, shared: dict, form: RegistrationForm | None = None) -> dict:
    user = request.user
    member = selectors.member_in_event(user, event)
    registration = member.registration
    if registration is not None:
        registration.event = event  # the row this page read already
    # Once the event is cancelled a registration holds nothing to move or give up.
    holds_place = registration is not None and registration.holds_place
    waiting = holds_place and registration.status == Registration.Status.WAITLISTED
    context = {
        "event": event,
        "shared": shared,
        "registration": registration,
        "meeting_link": selectors.meeting_link_for(registration) if registration else "",
        "registration_state": registrations.registration_state(event),
        # Only a refused registration's form: the page registers through the date buttons, and
        # its panel shows nothing else of the form than that form's errors.
        "form": form,
    }
    if user.is_authenticated:
        offers_dates = registration is None and context["registration_state"] == "open"
        context.update(
            outcome=outcome_message(registration) if registration else "",
            choices=selectors.occasion_choices(user, event, member=member) if offers_dates else [],
            move_form=MoveForm(registration=registration) if holds_place else None,
            free_elsewhere=selectors.occasions_with_a_seat_for(
                user, event, exclude_id=registration.occasion_id
            )
            if waiting
            else [],
            organization_seats_left=member.organization_seats_left,
            # Read only if the page names it and it did not come with the registrations.
            organization_name=member.organization_name or SimpleLazyObject(lambda: user.organization),
            colleagues=member.colleagues,
            is_coordinator=not event.is_cancelled and bool(selectors.colleagues_for(user)),
        )
    return context


def _event_and_shared_parts(slug: str, user) -> tuple[Event, dict]:
    """The event with its occasions and seats, and the parts of its page every visitor sees
    alike, built once per version of the public content (network_portal.page_cache) and shared
    by all visitors, signed in or not; the rest of the page is the visitor's own. Staff may see
    drafts, which must never reach the shared parts: theirs are built for them alone."""

    def part(template: str, extra=lambda event: {}):
        return lambda parts: render_to_string(template, {"event": parts["event"], **extra(parts["event"])})

    parts = shared_parts(
        f"event-page:{slug}",
        [get_language()],
        {
            "event": lambda parts: selectors.event_for_page(slug, viewer=user),
            "head": part("events/_event_head.html"),
            "about": part(
                "events/_event_about.html",
                lambda event: {
                    "audience_labels": [
                        User.Role(role).label for role in event.audience if role in User.Role.values
                    ]
                },
            ),
            "occasions": part("events/_event_occasions.html"),
            "contacts": part("events/_event_contacts.html"),
            "programme": part(
                "events/_event_programme.html", lambda event: {"agenda": selectors.agenda_by_day_part(event)}
            ),
        },
        shared=not user.is_staff,
    )
    return parts.pop("event"), parts


@login_required
@require_GET
def confirm_registration(request, slug: str, occasion_id: int):
    """The step after a date button: the date, what will happen (a seat, or the waiting list and
    why), the member's needs, and the button that registers."""
    event = get_object_or_404(selectors.published_events(), slug=slug)
    choice = _choice(request.user, event, occasion_id)
    if (
        not choice.has_date
        or registrations.registration_state(event) != "open"
        or selectors.active_registration(request.user, event) is not None
    ):
        return redirect(_registration_panel(event))  # the panel says why there is nothing to confirm
    form = ConfirmRegistrationForm(event=event, initial={"occasion": occasion_id})
    return _confirm_page(request, event, choice, form)


def _choice(user: User, event: Event, occasion_id: int) -> selectors.OccasionChoice:
    choice = next((c for c in selectors.occasion_choices(user, event) if c.occasion.pk == occasion_id), None)
    if choice is None:
        raise Http404
    return choice


def _confirm_page(request, event: Event, choice, form, status: int = 200):
    return render(
        request,
        "events/register_confirm.html",
        {
            "event": event,
            "choice": choice,
            "form": form,
            "expected": expected_outcome(choice, request.user),
            "organization_seats_left": selectors.organization_seats_left(event, request.user.organization_id),
        },
        status=status,
    )


@login_required
@require_POST
def register(request, slug: str):
    # The posted occasion and its event in one query; the form validates the choice against it.
    read = selectors.posted_occasion(slug, request.POST.get("occasion"))
    event = read.event if read is not None else get_object_or_404(selectors.published_events(), slug=slug)
    form = ConfirmRegistrationForm(request.POST, event=event, read=read)
    status = 400
    if form.is_valid():
        try:
            registrations.register(
                request.user,
                form.cleaned_data["occasion"],
                diet=form.cleaned_data.get("diet", ""),
                accessibility=form.cleaned_data["accessibility"],
                listed=form.cleaned_data["listed"],
            )
        except RegistrationError as error:
            form.add_error(None, error.message)
            status = _status_for(error)
        else:
            return redirect(_registration_panel(event))
    occasion = form.cleaned_data.get("occasion")
    if occasion is not None:  # back to the confirmation step, with the message next to the field
        return _confirm_page(request, event, _choice(request.user, event, occasion.pk), form, status)
    return _event_page(request, slug, form, status)


def _status_for(error: RegistrationError) -> int:
    # Too many changes in a short time: 429 tells clients and monitoring it is a rate limit.
    return 429 if error.code == "rate_limited" else 400


@login_required
@require_http_methods(["GET", "POST"])
def cancel_registration(request, pk: int):
    registration = _registration_for(request, pk)
    if not registration.is_active:
        messages.info(request, _("This registration is already cancelled."))
        return redirect("events:my_registrations")
    if request.method == "POST":
        try:
            registrations.cancel(registration, actor=request.user)
        except RegistrationError as error:
            messages.error(request, error.message)
            return redirect(registration.event)
        messages.success(
            request, _("Your registration for %(event)s is cancelled.") % {"event": registration.event}
        )
        return redirect(
            registration.event if registration.user_id != request.user.pk else "events:my_registrations"
        )
    return render(
        request,
        "events/cancel_confirm.html",
        {"registration": registration, "deadline": cancellation_deadline(registration.event)},
    )


@login_required
@require_POST
def move_registration(request, pk: int):
    registration = _registration_for(request, pk)
    form = MoveForm(request.POST, registration=registration)
    if not form.is_valid():
        messages.error(request, form.errors["occasion"][0])
        return redirect(registration.event)
    try:
        registration = registrations.move(registration, form.cleaned_data["occasion"], actor=request.user)
    except RegistrationError as error:
        messages.error(request, error.message)
        return redirect(registration.event)
    if registration.user_id != request.user.pk:
        # A coordinator or organizer moving someone else's registration: the page's panel shows
        # the actor's own registration, so the outcome is told here.
        level = messages.SUCCESS if registration.status == Registration.Status.CONFIRMED else messages.WARNING
        messages.add_message(request, level, outcome_message(registration))
        return redirect(registration.event)
    return redirect(_registration_panel(registration.event))


@login_required
@require_GET
def my_registrations(request):
    listed = list(selectors.my_registrations(request.user))
    now = timezone.now()
    for registration in listed:
        # The same signed page the follow-up email links to, while the evaluation is open.
        registration.evaluation_url = (
            evaluation_links.evaluation_path(registration)
            if evaluations.may_evaluate(registration, now)
            else ""
        )
    return render(
        request,
        "events/my_registrations.html",
        {
            "registrations": listed,
            "feed_url": request.build_absolute_uri(calendar_feed_for(request.user).get_absolute_url()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_seats(request, slug: str):
    """A coordinator's view of the organization's seats in one event, registering colleagues."""
    event = get_object_or_404(selectors.published_events(), slug=slug)
    colleagues = selectors.colleagues_for(request.user)
    if not colleagues:
        raise PermissionDenied
    seats = list(selectors.organization_registrations(request.user, event))
    posted = request.POST if request.method == "POST" else None
    moving = posted.get("move") if posted is not None else None
    move_forms = _seat_move_forms(event, seats, posted, moving)
    moved = move_forms.get(moving)
    status = 400  # when a form comes back with errors
    if moved is not None and moved.is_valid():
        try:
            registration = registrations.move(
                moved.registration, moved.cleaned_data["occasion"], actor=request.user
            )
        except RegistrationError as error:
            moved.add_error("occasion", error.message)
            status = _status_for(error)
        else:
            confirmed = registration.status == Registration.Status.CONFIRMED
            level = messages.SUCCESS if confirmed else messages.WARNING
            messages.add_message(request, level, f"{registration.user}: {outcome_message(registration)}")
            return redirect("events:organization_seats", slug=event.slug)
    # Bound on every POST, an empty one too: an error can only be added to a bound form. A move
    # posted from a row leaves the colleague form untouched.
    registering = posted is not None and moving is None
    form = RegistrationForm(posted if registering else None, event=event)
    if registering:
        # Only the verified colleagues offered in the list; anything else typed is refused.
        member = next((c for c in colleagues if str(c.pk) == request.POST.get("member", "")), None)
        if member is None:
            form.add_error(None, _("Choose a colleague."))
        elif form.is_valid():
            try:
                registration = registrations.register(
                    member,
                    form.cleaned_data["occasion"],
                    actor=request.user,
                    diet=form.cleaned_data.get("diet", ""),
                    accessibility=form.cleaned_data["accessibility"],
                    listed=form.cleaned_data["listed"],
                )
            except RegistrationError as error:
                form.add_error(None, error.message)
                status = _status_for(error)
            else:
                messages.success(request, f"{member}: {outcome_message(registration)}")
                return redirect("events:organization_seats", slug=event.slug)
    return render(
        request,
        "events/organization_seats.html",
        {
            "event": event,
            "form": form,
            "colleagues": colleagues,
            "registrations": [(registration, move_forms.get(str(registration.pk))) for registration in seats],
            "seats_left": selectors.organization_seats_left(event, request.user.organization_id),
        },
        status=status if form.errors or (moved is not None and moved.errors) else 200,
    )


def _seat_move_forms(event: Event, seats: list[Registration], posted, moving: str | None) -> dict:
    """Each colleague's row its own move form (the member's, with its empty first choice and the
    seats in each option), keyed by the registration's id; the row posted is bound. A move of a
    registration not on the page (or of an event with one occasion) is a 404."""
    forms = {}
    if event.occasions.count() > 1:
        for registration in seats:
            registration.event = event  # the row this page read already
            key = str(registration.pk)
            forms[key] = MoveForm(
                posted if key == moving else None, registration=registration, auto_id=f"move-{key}-%s"
            )
    if moving is not None and moving not in forms:
        raise Http404
    return forms


@require_GET
@csp({"sandbox": True})
def document_file(request, pk: int):
    """An uploaded document (slides, a report) of a published event or of a series.

    Served inert whatever it holds: the type comes from the allow-list by extension (anything
    else, e.g. a page uploaded before the list, is a download of octet-stream), browsers may not
    sniff another, and the sandbox policy replaces the site's, so nothing in it runs as the portal.
    """
    document = get_object_or_404(selectors.downloadable_documents(), pk=pk)
    if (
        document.event is not None
        and document.event.status == Event.Status.DRAFT
        and not selectors.is_visible_to(request.user, document.event_id)
    ):
        raise Http404  # a draft's documents are its team's until it is published
    if document.for_participants and not selectors.may_read_participant_material(
        request.user, document.event_id
    ):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404  # nobody learns what the participants were sent
    served = uploads.served_as(document.file.name)
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=not served.inline,
        filename=Path(document.file.name).name,
        content_type=served.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if document.for_participants:
        response["Cache-Control"] = "private, no-store"
    return response
