import datetime

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.selectors import next_moment, upcoming_events

from . import health
from .page_cache import public_page


@require_GET
@public_page(until=lambda request: next_moment())
def home(request):
    return render(request, "home.html", {"upcoming_events": upcoming_events()})


# When the accessibility statement was last prepared (reviewed against WCAG 2.1 AA): change it with
# each review, as the model statement (Implementing Decision (EU) 2018/1523) asks.
ACCESSIBILITY_STATEMENT_PREPARED = datetime.date(2026, 11, 29)
# The authorities that supervise public websites' accessibility, where people may complain.
SUPERVISING_AUTHORITY_DK = "https://digst.dk/"
SUPERVISING_AUTHORITY_SE = "https://www.digg.se/"


@require_GET
def accessibility_statement(request):
    return render(
        request,
        "accessibility.html",
        {
            "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
            "prepared": ACCESSIBILITY_STATEMENT_PREPARED,
            "site_url": request.build_absolute_uri("/"),
            "authority_dk": SUPERVISING_AUTHORITY_DK,
            "authority_se": SUPERVISING_AUTHORITY_SE,
        },
    )


@never_cache
@require_GET
def healthz(request):
    checks, healthy = health.report()
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
