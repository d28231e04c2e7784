"""Newsletter pages for visitors and subscribers. Thin: every change goes through
newsletters.services, and a signed link (newsletters.tokens) stands in for a login.

Links in emails only ever show a page with a button on GET, because mail scanners open every
link; the button's POST makes the change. The one exception is the RFC 8058 one-click
unsubscribe, a POST that mail providers send without cookies, hence without a CSRF token.
"""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from members.services import has_verified_email
from network_portal.clients import client_ip
from network_portal.languages import speak_language_of_email

from . import selectors, tokens
from .forms import PreferencesForm, SubscribeForm, member_consent_text
from .models import Subscriber
from .services import subscriptions
from .services.subscriptions import SubscriptionError

# Subscribing sends an email, so the form is limited per client address, and the mail to any
# one address is limited too (silently: the page must not tell whether mail went out).
SUBSCRIBE_LIMIT_PER_IP = 10
SUBSCRIBE_LIMIT_PER_ADDRESS = 3
SUBSCRIBE_WINDOW = 3600  # seconds


def _over_limit(key: str, limit: int, window: int = SUBSCRIBE_WINDOW) -> bool:
    """Count one more attempt under `key`; True once the count passes `limit` in the window."""
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count > limit


def _path(name: str, subscriber: Subscriber, purpose: str) -> str:
    return reverse(f"newsletters:{name}", args=[tokens.make(subscriber, purpose)])


def _speak_subscribers_language(request, subscriber: Subscriber, language: str = "") -> None:
    # A page reached from a newsletter email speaks the email's language, the subscriber's,
    # on the GET and on the button's POST alike; the token names the subscriber each time.
    speak_language_of_email(request, language or subscriber.language, remember=False)


def _invalid_link(request, message: str = ""):
    return render(request, "newsletters/link_invalid.html", {"message": message}, status=400)


@require_http_methods(["GET", "POST"])
def subscribe(request):
    if request.method == "GET" and request.GET.get("sent"):
        return render(request, "newsletters/subscribe_sent.html")
    initial = {"language": request.LANGUAGE_CODE}
    if request.user.is_authenticated:
        initial["email"] = request.user.email
    form = SubscribeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sent = redirect(reverse("newsletters:subscribe") + "?sent=1")
        if form.is_bot:
            return sent
        if _over_limit(f"newsletter-subscribe:ip:{client_ip(request)}", SUBSCRIBE_LIMIT_PER_IP):
            form.add_error(
                None,
                _("Too many sign-ups from your network in the last hour. Please try again in an hour."),
            )
            return render(request, "newsletters/subscribe.html", {"form": form}, status=429)
        data = form.cleaned_data
        email = subscriptions.normalize_email(data["email"])
        address_key = "newsletter-subscribe:address:" + hashlib.sha256(email.encode()).hexdigest()
        if not _over_limit(address_key, SUBSCRIBE_LIMIT_PER_ADDRESS):
            subscriptions.subscribe(
                email,
                language=data["language"],
                topics=data["topics"],
                all_topics=data["all_topics"],
                event_alerts=data["event_alerts"],
                consent_text=form.consent_text,
                source="web form",
            )
        return sent
    return render(request, "newsletters/subscribe.html", {"form": form})


def _member_subscriber(user) -> Subscriber | None:
    # The address counts only once verified: anyone may type any address into a profile.
    email = subscriptions.normalize_email(user.email) if has_verified_email(user) else None
    return selectors.member_subscriber(user, normalized_email=email)


@login_required
@require_http_methods(["GET", "POST"])
def subscribe_member(request):
    """POST: the one-click subscription from the profile page. GET: the member's own
    preferences page when subscribed, the form otherwise."""
    if request.method == "GET":
        subscriber = _member_subscriber(request.user)
        if subscriber is None:
            return redirect("newsletters:subscribe")
        return redirect(_path("preferences", subscriber, tokens.PREFERENCES))
    try:
        subscriptions.subscribe_member(request.user, consent_text=member_consent_text())
    except SubscriptionError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("You now receive the newsletter. You can choose topics in its preferences.")
        )
    return redirect("members:profile")


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    subscriber = tokens.read(token, tokens.CONFIRM)
    if subscriber is None:
        reoptin = tokens.read_reoptin(token)
        if reoptin is None:
            return _invalid_link(request)
        return _confirm_reoptin(request, reoptin)
    _speak_subscribers_language(request, subscriber)
    if request.method == "POST":
        try:
            subscriber = subscriptions.confirm(subscriber, source="confirmation link")
        except SubscriptionError as error:
            return _invalid_link(request, error.message)
        confirmed = True
    elif subscriber.status in (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.BOUNCING):
        return _invalid_link(
            request, _("This confirmation link is no longer valid. Subscribe again to get a new one.")
        )
    else:
        confirmed = subscriber.status == Subscriber.Status.ACTIVE
    return render(
        request,
        "newsletters/confirm.html",
        {
            "subscriber": subscriber,
            "confirmed": confirmed,
            "preferences_path": _path("preferences", subscriber, tokens.PREFERENCES),
        },
    )


def _confirm_reoptin(request, reoptin: tokens.ReOptIn):
    """The confirmation page for an address that had unsubscribed; see tokens.REOPTIN."""
    subscriber = reoptin.subscriber
    _speak_subscribers_language(request, subscriber, reoptin.language)
    if request.method == "POST":
        try:
            subscriber = subscriptions.confirm_reoptin(reoptin, source="confirmation link")
        except SubscriptionError as error:
            return _invalid_link(request, error.message)
    elif subscriber.status != Subscriber.Status.ACTIVE and not reoptin.still_applies(subscriber):
        return _invalid_link(
            request, _("This confirmation link is no longer valid. Subscribe again to get a new one.")
        )
    return render(
        request,
        "newsletters/confirm.html",
        {
            "subscriber": subscriber,
            "confirmed": subscriber.status == Subscriber.Status.ACTIVE,
            "preferences_path": _path("preferences", subscriber, tokens.PREFERENCES),
        },
    )


@require_http_methods(["GET", "POST"])
def preferences(request, token: str):
    subscriber = tokens.read(token, tokens.PREFERENCES)
    if subscriber is None:
        return _invalid_link(request)
    _speak_subscribers_language(request, subscriber)
    unsubscribed = subscriber.status == Subscriber.Status.UNSUBSCRIBED
    form = None
    if not unsubscribed:
        form = PreferencesForm(
            request.POST or None,
            initial={
                "language": subscriber.language,
                "all_topics": str(subscriber.all_topics),
                "topics": list(subscriber.topics.all()),
                "event_alerts": subscriber.event_alerts,
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                subscriptions.update_preferences(
                    subscriber,
                    topics=data["topics"],
                    all_topics=data["all_topics"],
                    language=data["language"],
                    event_alerts=data["event_alerts"],
                    source="preferences page",
                )
            except SubscriptionError as error:
                return _invalid_link(request, error.message)
            messages.success(request, _("Your choices are saved."))
            return redirect(request.path)
    return render(
        request,
        "newsletters/preferences.html",
        {
            "form": form,
            "subscriber": subscriber,
            "unsubscribed": unsubscribed,
            "unsubscribe_path": _path("unsubscribe", subscriber, tokens.UNSUBSCRIBE),
        },
    )


@csrf_exempt  # RFC 8058: mail providers POST the one-click unsubscribe without cookies
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    subscriber = tokens.read(token, tokens.UNSUBSCRIBE)
    if subscriber is None:
        return _invalid_link(request)
    _speak_subscribers_language(request, subscriber)
    done = False
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        try:
            subscriber = subscriptions.unsubscribe(
                subscriber, source="one-click (RFC 8058)" if one_click else "unsubscribe page"
            )
        except SubscriptionError as error:
            return _invalid_link(request, error.message)
        done = True
    return render(
        request,
        "newsletters/unsubscribe.html",
        {
            "subscriber": subscriber,
            "done": done,
            "already": not done and subscriber.status == Subscriber.Status.UNSUBSCRIBED,
        },
    )
