"""The floors: what the same settings and middleware cost with (almost) no work in the view.

Ratios to these, measured in the same run, compare from machine to machine; absolute figures on a
shared machine do not."""

from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

COUNTER_TABLE = "bench_counter"


@require_GET
def floor(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_POST
def locked_counter(request):
    # The smallest correct seat sale: lock one row, re-read it, write it, answer with a redirect
    # (as the registration does), for a logged-in member whose CSRF token is checked.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT taken FROM {COUNTER_TABLE} WHERE id = 1 FOR UPDATE")  # noqa: S608
        cursor.execute(f"UPDATE {COUNTER_TABLE} SET taken = taken + 1 WHERE id = 1")  # noqa: S608
    return redirect("/bench/floor/")
