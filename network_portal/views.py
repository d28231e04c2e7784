from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.selectors import upcoming_events

from . import health


@require_GET
def home(request):
    return render(request, "home.html", {"upcoming_events": upcoming_events()})


@never_cache
@require_GET
def healthz(request):
    checks, healthy = health.report()
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
