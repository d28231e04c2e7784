"""The public archive: every edition that has gone out, and its web version. Only sent editions
exist here; a draft, a scheduled edition or one still sending is a 404, so nobody reads a
newsletter before its subscribers do. The web version carries no personal links."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import rendering, selectors

ARCHIVE_PAGE_SIZE = 20


@require_GET
def archive_list(request):
    editions = selectors.archive_editions()
    page = Paginator(editions, ARCHIVE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "newsletters/archive_list.html", {"page_obj": page, "editions": page.object_list})


@require_GET
def edition_detail(request, pk: int):
    edition = get_object_or_404(selectors.sent_editions(), pk=pk)
    return render(request, "newsletters/archive_edition.html", rendering.web_context(edition))
