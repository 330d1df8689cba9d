"""Webhooks: events recorded as deliveries, POSTed signed to the URLs administrators registered.

A delivery moves `pending → sending → delivered`, or back to `pending` with a later
`next_attempt_at` after a failed try (exponential back-off: 30 s, 1, 2, 4 … minutes, capped),
or to `failed` once a series used `max_attempts` tries. Each try first *claims* the delivery
with a conditional UPDATE, so two workers handed the same delivery (a retry racing the requeue
sweep, a duplicate message) never both send it. A claim older than `STALE_CLAIM` is taken over:
its worker died. Every try is recorded (WebhookAttempt). A receiver that is down loses nothing:
its deliveries wait as pending, then failed, and `webhook_delivery_replay` starts a new series.

Requests go only to the endpoint's registered URL: redirects are not followed, and only
http(s) URLs are accepted.

Signature (documented in README.md, "API and webhooks"): the header
`X-Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>`, where
`body` is the exact request body. Also sent: `X-Rapport-Event`, `X-Rapport-Delivery` (the
delivery's UUID, the same on every try: receivers deduplicate on it).
"""

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from core.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# The events Rapport sends, name → when. Apps that add events register them here
# (`webhook_event_register`) from their AppConfig.ready().
WEBHOOK_EVENTS: dict[str, str] = {
    "response.submitted": "A contact answered a pulse (by link, or recorded by staff); "
    "again when the answers are edited.",
    "contact.left": "A contact was marked as having left their company.",
}
SIGNATURE_HEADER = "X-Rapport-Signature"
EVENT_HEADER = "X-Rapport-Event"
DELIVERY_HEADER = "X-Rapport-Delivery"
USER_AGENT = "Rapport-Webhooks/1"
STALE_CLAIM = timedelta(minutes=5)
ERROR_LENGTH = WebhookDelivery._meta.get_field("last_error").max_length
# A new value whenever an endpoint is saved or deleted (shared by every process, in the cache).
LISTENERS_STAMP_KEY = "webhooks:listeners-stamp"
# This process's copy of the events active endpoints receive, good while the stamp is the same.
_listened = {"stamp": None, "events": frozenset()}


def webhook_event_register(name: str, description: str) -> None:
    WEBHOOK_EVENTS.setdefault(name, description)


def _config(name: str) -> int:
    return settings.RAPPORT_WEBHOOKS[name]


# --- Signing --------------------------------------------------------------------------------------


def webhook_secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Rapport-Signature value for `body` sent at `timestamp` (unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(
    *, secret: str, header: str, body: bytes, tolerance: int = 300, now: int | None = None
) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse old timestamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={parts.get('v1', '')}")


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed: the same envelope on every try, so receivers can deduplicate."""
    return json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


# --- Endpoints ------------------------------------------------------------------------------------


def _url_errors(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return {"url": "Use an http:// or https:// address."}
    if parts.username or parts.password:
        return {"url": "Put credentials in the secret, not in the address."}
    return {}


@transaction.atomic
def webhook_endpoint_create(
    *, url: str, events: list[str], created_by: User, description: str = "", secret: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for `events`. Returns it and its secret (generated when not given),
    to be shown this once."""
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    errors = _url_errors(url)
    if not events or unknown:
        errors["events"] = "Choose at least one event." if not events else f"Unknown: {unknown}."
    if secret and len(secret) < 16:
        errors["secret"] = "Use at least 16 characters, or leave it empty to generate one."  # noqa: S105 - a message
    if errors:
        raise ValidationError(errors)
    secret = secret or webhook_secret_generate()
    endpoint = WebhookEndpoint(
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=secret,
        created_by=created_by,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint, secret


def webhook_listeners_changed() -> None:
    """The endpoints changed (WebhookEndpoint.save and delete call this): every process reads
    them again before its next event. Stamped now and again once the transaction commits, so a
    process that read the endpoints in between does not keep what it read."""

    def stamp():
        cache.set(LISTENERS_STAMP_KEY, secrets.token_hex(8), timeout=None)

    stamp()
    transaction.on_commit(stamp, robust=True)


def _cache_is_shared() -> bool:
    """Whether every process (web, worker, beat) reads the same cache, so that one stamp there
    speaks for all of them: Redis does; a local-memory cache is each process's own."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


def _listened_events() -> frozenset[str]:
    """The events some active endpoint receives. While no endpoint changed, one cache read
    instead of a query: every survey submit asks. Without a shared cache, the query."""
    if not _cache_is_shared():
        return _active_events()
    stamp = cache.get(LISTENERS_STAMP_KEY)
    if stamp is None:
        cache.add(LISTENERS_STAMP_KEY, secrets.token_hex(8), timeout=None)
        stamp = cache.get(LISTENERS_STAMP_KEY)
    if stamp is not None and stamp == _listened["stamp"]:
        return _listened["events"]
    # The stamp is read first: an endpoint saved from here on stamps anew after this read.
    events = _active_events()
    _listened.update(stamp=stamp, events=events)
    return events


def _active_events() -> frozenset[str]:
    active = WebhookEndpoint.objects.filter(is_active=True)
    return frozenset(event for endpoint in active for event in endpoint.events or [])


def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, is_active: bool) -> None:
    """Pause or resume an endpoint. Paused: no new deliveries; pending ones fail on their
    next try (and stay replayable)."""
    endpoint.is_active = is_active
    endpoint.save(update_fields=["is_active", "updated_at"])


# --- Publishing -----------------------------------------------------------------------------------


def webhook_event_publish(*, event: str, data: dict) -> list[int]:
    """Record a delivery of `event` for every active endpoint that receives it, and queue them
    once the current transaction commits. `data` is the resource as the API shows it.

    The envelope: {"id": <delivery UUID>, "event", "created_at", "data"}. Returns delivery ids.
    """
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    # A handful of endpoints at most: filtering in Python works on every database.
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.receives(event)]
    ids = []
    now = timezone.now()
    with transaction.atomic():
        for endpoint in endpoints:
            delivery = WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            delivery.payload = {
                "id": str(delivery.delivery_id),
                "event": event,
                "created_at": now.isoformat(),
                "data": data,
            }
            delivery.save()
            ids.append(delivery.pk)
            _queue(delivery.pk)
    return ids


def on_commit_publish(event: str, build_data) -> None:
    """The hook domain services call: after their transaction commits, build the event's data
    (`build_data()`, reading committed rows) and publish it. A failure here is logged and never
    undoes or breaks the write that caused the event (robust on_commit)."""

    def publish():
        if event not in _listened_events():
            return  # nobody listens: skip building the payload
        data = build_data()
        if data is not None:
            webhook_event_publish(event=event, data=data)

    transaction.on_commit(publish, robust=True)


def _queue(delivery_id: int) -> None:
    """Queue a try once committed. A broker that is down fails nothing: the delivery is a row,
    and `webhook_deliveries_requeue` (beat) queues it again later."""
    from core.tasks import deliver_webhook  # tasks import this module

    def send():
        try:
            deliver_webhook.apply_async(args=[delivery_id], retry=False)
        except Exception:  # any broker trouble: the requeue sweep will find the delivery
            logger.warning(
                "Could not queue webhook delivery %s; the sweep will", delivery_id, exc_info=True
            )

    transaction.on_commit(send)


# --- Delivering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    status: str | None  # the delivery's status after this call; None: nothing was claimed
    retry_in: float | None = None  # seconds until the next try, when one is due


def backoff_seconds(attempts: int) -> float:
    """Wait after the `attempts`-th failed try: base · 2^(n-1), capped, ±10 % jitter."""
    base = _config("backoff_seconds") * 2 ** max(attempts - 1, 0)
    delay = min(base, _config("backoff_max_seconds"))
    return delay * random.uniform(0.9, 1.1)  # noqa: S311 - spreading retries, not security


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    due = Q(status=WebhookDelivery.Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    lost = Q(status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return bool(
        WebhookDelivery.objects.filter(due | lost, pk=delivery_id).update(
            status=WebhookDelivery.Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is an answer like any other: we post only to the registered URL


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST and return (status code, error text). Never raises for HTTP or network trouble."""
    if _url_errors(url):
        return None, "The endpoint URL is not an http(s) address."
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=_config("timeout_seconds")) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"


def webhook_delivery_attempt(*, delivery_id: int) -> AttemptOutcome:
    """Make one try of a delivery, if it is due and nobody else is trying it.

    Claims it, POSTs the signed body, records the try, and moves the delivery on: delivered
    on a 2xx; otherwise pending again with `next_attempt_at` (returned as `retry_in`), or
    failed when the series has used `max_attempts` tries. Idempotent: a delivery that is not
    due, already delivered or claimed by another worker is left alone (status None).
    """
    if not _claim(delivery_id):
        return AttemptOutcome(status=None)
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    started = timezone.now()
    clock = time.monotonic()
    if endpoint.is_active:
        body = delivery_body(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.delivery_id),
            SIGNATURE_HEADER: webhook_signature(
                secret=endpoint.secret, timestamp=int(time.time()), body=body
            ),
        }
        status_code, error = _post(endpoint.url, body, headers)
    else:
        status_code, error = None, "The endpoint is paused."
    ok = status_code is not None and 200 <= status_code < 300
    duration_ms = int((time.monotonic() - clock) * 1000)
    return _record(
        delivery, started, duration_ms, status_code, ok, error, paused=not endpoint.is_active
    )


def _record(delivery, started, duration_ms, status_code, ok, error, *, paused) -> AttemptOutcome:
    error = error[:ERROR_LENGTH]
    now = timezone.now()
    with transaction.atomic():
        number = WebhookAttempt.objects.filter(delivery=delivery).count() + 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            duration_ms=duration_ms,
            status_code=status_code,
            ok=ok,
            error=error,
        )
        fields = {"last_status_code": status_code, "last_error": error, "updated_at": now}
        retry_in = None
        if ok:
            status = WebhookDelivery.Status.DELIVERED
            fields |= {"delivered_at": now, "next_attempt_at": None, "last_error": ""}
        elif paused or delivery.attempts >= _config("max_attempts"):
            status = WebhookDelivery.Status.FAILED
            fields["next_attempt_at"] = None
        else:
            status = WebhookDelivery.Status.PENDING
            retry_in = backoff_seconds(delivery.attempts)
            fields["next_attempt_at"] = now + timedelta(seconds=retry_in)
        # Only our own claim is moved on: a takeover after STALE_CLAIM changed claimed_at.
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.SENDING, claimed_at=delivery.claimed_at
        ).update(status=status, **fields)
    if not ok:
        logger.info("Webhook delivery %s try %s failed: %s", delivery.pk, number, error)
    return AttemptOutcome(status=status, retry_in=retry_in)


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> bool:
    """Send a delivery again, as a new series of tries (same body, same delivery id).

    Any state but "sending" (a try in flight) may be replayed. Returns False when nothing
    was changed. Queued after commit.
    """
    replayed = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(status=WebhookDelivery.Status.SENDING)
        .update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            claimed_at=None,
            updated_at=timezone.now(),
        )
    )
    if replayed:
        _queue(delivery.pk)
    return bool(replayed)


def webhook_deliveries_requeue() -> list[int]:
    """Deliveries whose task message was lost (a broker restart, a worker killed mid-try):
    pending and long overdue, or claimed long ago. Returns their ids to queue again; the claim
    makes a duplicate harmless."""
    now = timezone.now()
    overdue = now - timedelta(seconds=_config("requeue_after_seconds"))
    lost = Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=overdue) | Q(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    return list(
        WebhookDelivery.objects.filter(lost).order_by("pk").values_list("pk", flat=True)[:500]
    )
