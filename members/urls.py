from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("edit/", views.edit_profile, name="edit"),
    path("data/", views.download_data, name="download_data"),
    path("delete/", views.delete_account, name="delete_account"),
]
