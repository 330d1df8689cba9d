from django.conf import settings


def rapport(request):
    return {"rapport_debug": settings.DEBUG}
