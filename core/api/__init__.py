"""What every app's API shares: authentication, errors, pagination, filters, ETags, throttles.

Each app keeps its own endpoints in `<app>/api.py` (viewsets registered on `core.api.routers
.router`) and `<app>/serializers.py`; `core.api.urls` finds them, like the admin finds admin.py.
"""
