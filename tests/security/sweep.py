"""Helpers the sweeps share: requests by method, and a fingerprint of the database."""

import io
import zipfile

from django.apps import apps
from django.db import models

from tests.security.routes import all_routes

UNSAFE = ("post", "put", "patch", "delete")
METHODS = ("get", *UNSAFE)
NO_SUCH_ID = 987_654_321


def classified_routes():
    """Routes RULES knows (the others fail test_route_registry, with what to add)."""
    return [route for route in all_routes() if route.rule() is not None]


def send(client, method: str, url: str, *, api: bool):
    """One request; unsafe API requests carry an empty JSON object, web ones an empty form."""
    if api and method in UNSAFE:
        return getattr(client, method)(url, data="{}", content_type="application/json")
    return getattr(client, method)(url)


def body_text(response) -> str:
    """What a response shows: its text, or every XML part of an XLSX workbook."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            return "\n".join(
                workbook.read(name).decode("utf-8", "replace")
                for name in workbook.namelist()
                if name.endswith(".xml")
            )
    return content.decode("utf-8", "replace")


def _project_models():
    for model in apps.get_models():
        if model.__module__.split(".")[0] in {"accounts", "contacts", "pulses", "actions",
                                               "changemaps", "core", "reports"}:  # fmt: skip
            yield model


# Rows that reading may add: the audit log records who looked at and exported what.
NOT_FINGERPRINTED = {"core.AuditEvent"}


def database_fingerprint() -> dict:
    """Every row of every project model (volatile bookkeeping columns left out): a sweep that
    must change nothing compares this before and after."""
    volatile = {"last_used_at", "updated_at", "opened_at", "beat_at", "last_seen_at"}
    fingerprint = {}
    for model in _project_models():
        if model._meta.label in NOT_FINGERPRINTED:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in volatile and not isinstance(f, models.JSONField)
        ]
        fingerprint[model._meta.label] = sorted(
            map(repr, model.objects.order_by("pk").values_list(*fields))
        )
    return fingerprint


def fingerprint_changes(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]
