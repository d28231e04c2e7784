from django.conf import settings


def portal(request):
    return {"NETWORK_NAME": settings.NETWORK_NAME}
