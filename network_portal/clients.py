"""Who a request comes from, for limits per client."""

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied


def client_ip(request) -> str:
    """allauth's reading of the client's address, so that behind proxies (TRUSTED_PROXY_COUNT)
    every limit counts per visitor like sign-in, not for everyone at once. A request without an
    address it can read counts as one client, "" (allauth refuses it with PermissionDenied)."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return ""
