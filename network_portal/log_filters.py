"""Filters for the server log (settings.LOGGING)."""

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """A refused request (403 and the other 4xx that django.request and django.security log) is
    the portal working as meant: one line says so. The traceback of the PermissionDenied behind
    it would bury the errors worth reading; a 500 keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if (status is not None and 400 <= status < 500) or record.name.startswith("django.security"):
            record.exc_info = None
            record.exc_text = None
        return True
