from django.urls import path

from changemaps import exports, views

app_name = "changemaps"
urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("accounts/<int:pk>/changemap/", views.account_changemap, name="account"),
    path("territories/<int:pk>/changemap/", views.territory_changemap, name="territory"),
    path("segments/<int:pk>/changemap/", views.segment_changemap, name="segment"),
    # The same scopes as CSV or XLSX, one row per person (changemaps/exports.py).
    path("portfolio/export/", exports.export_portfolio_changemap, name="export_portfolio"),
    path(
        "accounts/<int:pk>/changemap/export/",
        exports.export_account_changemap,
        name="export_account",
    ),
    path(
        "territories/<int:pk>/changemap/export/",
        exports.export_territory_changemap,
        name="export_territory",
    ),
    path(
        "segments/<int:pk>/changemap/export/",
        exports.export_segment_changemap,
        name="export_segment",
    ),
]
