from django.urls import path, re_path

from . import calendar, evaluation_views, feeds, list_views, views

app_name = "events"

urlpatterns = [
    path("", list_views.event_list, name="list"),
    path("mine/", views.my_registrations, name="my_registrations"),
    path("registrations/<int:pk>/cancel/", views.cancel_registration, name="cancel"),
    path("registrations/<int:pk>/move/", views.move_registration, name="move"),
    path("series/<slug:slug>/", list_views.series_detail, name="series"),
    path("themes/<slug:slug>/", list_views.theme_detail, name="theme"),
    path("themes.css", list_views.theme_stylesheet, name="theme_stylesheet"),
    path("documents/<int:pk>/", views.document_file, name="document"),
    # A signed token ("<id>:<signature>") never looks like an event page's "register/".
    re_path(r"^evaluation/(?P<token>\d+:[\w-]+)/$", evaluation_views.evaluation, name="evaluation"),
    path("<slug:slug>/", views.event_detail, name="detail"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/register/<int:occasion_id>/", views.confirm_registration, name="confirm_registration"),
    path("<slug:slug>/organization/", views.organization_seats, name="organization_seats"),
    path("registrations/<int:pk>/calendar.ics", calendar.registration_ics, name="registration_ics"),
    path("calendar.ics", calendar.public_calendar, name="public_calendar"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("calendar/reset/", calendar.reset_calendar_feed, name="reset_calendar_feed"),
    path("feed/rss/", feeds.LatestEventsRss(), name="feed_rss"),
    path("feed/atom/", feeds.LatestEventsAtom(), name="feed_atom"),
]
