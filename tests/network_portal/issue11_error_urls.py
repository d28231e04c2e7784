"""The portal's addresses plus pages that fail, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.urls import path

from network_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from network_portal.urls import urlpatterns as portal_urlpatterns


def _database_down(request):
    raise OperationalError("connection to server failed")


def _forbidden(request):
    raise PermissionDenied


def _suspicious(request):
    raise SuspiciousOperation("a tampered request")


urlpatterns = [
    path("test-errors/500/", _database_down),
    path("test-errors/403/", _forbidden),
    path("test-errors/400/", _suspicious),
    *portal_urlpatterns,
]
