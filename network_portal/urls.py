from django.contrib import admin
from django.urls import include, path

from members import views as member_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", member_views.set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("members.urls")),
    path("events/", include("events.urls")),
    path("admin/", admin.site.urls),
]
