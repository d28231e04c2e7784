from django.urls import path

from network_portal.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401

from . import views

urlpatterns = [
    path("bench/floor/", views.floor),
    path("bench/counter/", views.locked_counter),
    *urlpatterns,
]
