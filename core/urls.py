from django.urls import path

from core import views, views_audit

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("status/", views.status, name="status"),
    # The audit log (administrators).
    path("audit/", views_audit.audit_log, name="audit_log"),
    path(
        "audit/export.<str:fmt>",
        views_audit.audit_log_export,
        name="audit_log_export",
    ),
    # Webhooks (administrators).
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/deliveries/<int:pk>/", views.webhook_delivery, name="webhook_delivery"),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        views.webhook_delivery_replay,
        name="webhook_delivery_replay",
    ),
]
