from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    """The one router under /api/v1/; each app's api.py registers its viewsets on it."""

    include_format_suffixes = False


router = Router()
