from django.urls import include, path

# Its messages link to its own pages.
urlpatterns = [path("newsletter/", include("newsletter.urls"))]
