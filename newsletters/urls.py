from django.urls import path

from . import archive, views

app_name = "newsletters"

urlpatterns = [
    path("", views.subscribe, name="subscribe"),
    path("member/", views.subscribe_member, name="subscribe_member"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("archive/", archive.archive_list, name="archive"),
    path("archive/<int:pk>/", archive.edition_detail, name="edition"),
]
