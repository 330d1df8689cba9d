"""The audit log's one way in: `audit_record(...)` inserts a row and never changes one."""

from django.db import models

from core.models import AuditEvent


def _client_address(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor,
    verb: str,
    target_type: str,
    target_id: object = "",
    target: str = "",
    detail: dict | None = None,
    request=None,
) -> AuditEvent:
    """Record that `actor` did `verb` to a target (an object, or a named export/report).

    `target` is a human-readable description stored as text, so the entry still reads well after
    the object is deleted or anonymised. Call it inside the transaction that does the work, so
    an action that fails leaves no entry and a recorded one always happened.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=getattr(user, "email", "") if user else "",
        verb=verb,
        target_type=target_type,
        target_id=str(target_id if not isinstance(target_id, models.Model) else target_id.pk),
        target=str(target)[:300],
        detail=detail or {},
        ip_address=_client_address(request),
    )
