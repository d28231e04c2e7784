from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from events import list_views as event_list_views
from events.api import api as events_api
from members import views as member_views

from . import views

admin.site.site_header = admin.site.site_title = settings.NETWORK_NAME
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", member_views.privacy_notice, name="privacy"),
    path("accessibility/", views.accessibility_statement, name="accessibility"),
    path("i18n/setlang/", member_views.set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("members.urls")),
    path("events/", include("events.urls")),
    path("newsletter/", include("newsletters.urls")),
    path("api/v1/", events_api.urls),
    path("embed/events/", event_list_views.embedded_list, name="embedded_events"),
    path("admin/", admin.site.urls),
]

# Error pages in the portal's layout and the visitor's language (network_portal.errors).
handler400 = "network_portal.errors.bad_request"
handler403 = "network_portal.errors.permission_denied"
handler404 = "network_portal.errors.page_not_found"
handler500 = "network_portal.errors.server_error"
