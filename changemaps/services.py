"""Writes for change maps: compute the snapshots, and keep them fresh without recomputing per answer.

Freshness works like this. Code that changes what the maps are made of (a response saved, a
wave opened or closed, a contact who left) calls `changemaps_mark_dirty()` inside its
transaction. Once that commits, the change is counted on the one `ChangeMapState` row, and the
first change of a burst queues one `recompute_changemaps` task `debounce_seconds` later; the
rest of the burst only counts. The task claims the row (a conditional UPDATE, so two workers
never compute together), recomputes, and records which count it computed. Changes that land
while it computes leave the state dirty and queue one more run. Beat sweeps every few minutes
for anything a lost message left dirty, and recomputes once a day regardless.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from changemaps import rules
from changemaps.models import ChangeMapState, ContactSnapshot, GroupSnapshot
from changemaps.selectors import changemap_inputs
from core.frames import copy_rows_into, frame_from_queryset, frame_kinds
from core.models import WebhookEndpoint
from core.queueing import publish
from core.services.webhooks import on_commit_publish
from pulses.models import Wave

BATCH = 2_000  # ids per DELETE: well under SQLite's limit on bound values


@dataclass(frozen=True)
class ComputeResult:
    wave_ids: list[int]
    contacts: int
    groups: int
    seconds: float
    people_written: int = 0  # person snapshots deleted or inserted: 0 when nobody's changed


def _wave_ids(waves) -> list[int] | str | None:
    if waves is None or waves == "all":
        return waves
    return [wave.pk if isinstance(wave, Wave) else int(wave) for wave in waves]


def _values(frame: pd.DataFrame, column: str) -> list:
    series = frame[column]
    return series.astype(object).where(series.notna(), None).tolist()


CONTACT_SNAPSHOT_FIELDS = ["wave_id", "contact_id", "account_id", "category", "previous_category",
                           "reason", "last", "prev", "delta", "n", "silent_streak", "key_person"]  # fmt: skip
CONTACT_SNAPSHOT_KEY = ["wave_id", "contact_id"]
GROUP_SNAPSHOT_FIELDS = ["wave_id", *rules.GROUP_COLUMNS]


def _write_changes(
    stored: QuerySet, rows: pd.DataFrame, *, fields: list[str], key: list[str]
) -> int:
    """Make `stored` (snapshots) hold exactly `rows` (`fields` = their columns, by attname):
    delete the stored rows that are gone or differ, insert the new and the differing ones;
    the number of rows deleted or inserted.

    Unchanged rows stay as they are, ids included: a recompute finds most people where they
    were, and rewriting all 50,000 rows (eight indexes, three foreign keys checked per row) took
    longer than reading and classifying everything. A row that changes gets a new id.
    """
    model = stored.model
    before = frame_from_queryset(stored.order_by(), {"id": "int", **frame_kinds(model, fields)})
    at = [fields.index(name) for name in key]
    held = {
        tuple(row[i] for i in at): (pk, row)
        for pk, row in zip(before["id"].tolist(), _tuples(before, fields), strict=True)
    }
    fresh, gone = [], []
    for row in _tuples(rows, fields):
        pk, old = held.pop(tuple(row[i] for i in at), (None, None))
        if old == row:
            continue
        if pk is not None:
            gone.append(pk)
        fresh.append(row)
    gone.extend(pk for pk, _ in held.values())  # no longer computed
    for start in range(0, len(gone), BATCH):
        model.objects.filter(pk__in=gone[start : start + BATCH]).delete()
    copy_rows_into(model, fields, fresh)
    return len(gone) + len(fresh)


def _tuples(frame: pd.DataFrame, fields: list[str]) -> list[tuple]:
    """Rows as tuples of Python values, None for missing: as compared and as written."""
    if frame.empty:
        return []
    return list(zip(*(_values(frame, name) for name in fields), strict=True))


CATEGORY_CHANGED = "changemap.category_changed"


def _latest_wave_id(wave_ids: list[int]) -> int | None:
    latest = Wave.objects.filter(pk__in=wave_ids).order_by("-opens_on", "-pk").first()
    return latest.pk if latest else None


def _category_changes_wanted() -> bool:
    """Whether an active webhook endpoint receives `changemap.category_changed`: a new wave can
    move hundreds of people, so no work (not even reading what was stored) when nobody does."""
    listening = WebhookEndpoint.objects.filter(is_active=True)
    return any(endpoint.receives(CATEGORY_CHANGED) for endpoint in listening)


def _announce_category_changes(
    contacts: pd.DataFrame, *, wave_id: int | None, stored: dict
) -> None:
    """Publish `changemap.category_changed` for each person of the latest wave whose category
    differs from what was stored for that wave before this compute (or, the first time the wave
    is computed, from their category at the previous wave). Recomputing unchanged data
    announces nothing, so an event means a real change. Call it when
    `_category_changes_wanted()`."""
    rows = contacts[contacts["wave_id"] == wave_id]
    for contact_id, account_id, category, previous, reason in zip(
        rows["contact_id"], rows["account_id"], rows["category"], rows["previous_category"],
        rows["reason"], strict=True,
    ):  # fmt: skip
        # Compared with what was stored for this wave, or (first compute of the wave) with their
        # category at the previous wave; "" or NaN there means they were not on the map yet.
        before = stored.get(int(contact_id)) if stored else previous
        if not isinstance(before, str) or not before or before == category:
            continue
        data = {
            "contact_id": int(contact_id),
            "account_id": int(account_id),
            "wave_id": int(wave_id),
            "category": category,
            "previous_category": before,
            "reason": reason,
        }
        on_commit_publish(CATEGORY_CHANGED, lambda data=data: data)


def changemaps_compute(
    *, waves: str | Iterable[Wave | int] | None = None, now: datetime | None = None
) -> ComputeResult:
    """Compute and store the change maps of the latest wave (default), of "all" waves, or of
    the given waves (Wave objects or ids, each with invitations).

    Reads every input in a few queries, classifies with `changemaps.rules`, then in one
    transaction brings each computed wave's snapshots up to date: person rows that changed (or
    went) are deleted and the new ones inserted, unchanged ones stay; group rows are replaced;
    with "all", snapshots of waves that no longer have invitations go too. Deterministic: the
    same data gives the same rows (ids aside). Concurrent calls write one after the other (the
    computed waves are locked first). `now` decides which waves are still open.
    """
    started = time.perf_counter()
    inputs = changemap_inputs(now=now)
    thresholds = rules.Thresholds.from_settings()
    result = rules.changemap(inputs, thresholds=thresholds, wave_ids=_wave_ids(waves))
    computed = [int(w) for w in result.contacts["wave_id"].unique()]
    with transaction.atomic():
        # Two computes of one wave write one after the other. NO KEY UPDATE: answers being
        # saved meanwhile (their foreign key takes KEY SHARE on the wave) are not held up.
        locked = Wave.objects.select_for_update(no_key=True).order_by("pk")
        if waves != "all":
            locked = locked.filter(pk__in=computed)
        list(locked.values_list("pk", flat=True))
        latest = _latest_wave_id(computed)
        announce = waves != "all" and _category_changes_wanted()  # rebuilding history: never
        stored = (
            dict(
                ContactSnapshot.objects.filter(wave_id=latest).values_list("contact_id", "category")
            )
            if announce
            else {}
        )
        people = ContactSnapshot.objects.all()
        groups = GroupSnapshot.objects.all()
        if waves != "all":  # "all" also removes the snapshots of waves no longer computed
            people, groups = (
                people.filter(wave_id__in=computed),
                groups.filter(wave_id__in=computed),
            )
        written = _write_changes(
            people, result.contacts, fields=CONTACT_SNAPSHOT_FIELDS, key=CONTACT_SNAPSHOT_KEY
        )
        # Group rows are few but heavy (12 MB of JSON lists at 2,000 accounts): reading them
        # back to compare took longer than writing them again. Their new ids also tell
        # `portfolio_version` that a recompute happened.
        groups.delete()
        copy_rows_into(
            GroupSnapshot, GROUP_SNAPSHOT_FIELDS, _tuples(result.groups, GROUP_SNAPSHOT_FIELDS)
        )
        if announce:
            _announce_category_changes(result.contacts, wave_id=latest, stored=stored)
    return ComputeResult(
        wave_ids=computed,
        contacts=len(result.contacts),
        groups=len(result.groups),
        seconds=time.perf_counter() - started,
        people_written=written,
    )


# --- Freshness ----------------------------------------------------------------------------------


def _state() -> ChangeMapState:
    state, _ = ChangeMapState.objects.get_or_create(pk=ChangeMapState.SINGLETON)
    return state


def _queue_recompute() -> None:
    from changemaps.tasks import recompute_changemaps  # the tasks module imports this one

    # With the broker down this gives up at once: the beat sweep recomputes dirty maps anyway.
    publish(recompute_changemaps, countdown=settings.CHANGE_MAP["debounce_seconds"])


def changemaps_note_change(*, now: datetime | None = None) -> bool:
    """Count one change to the maps' inputs, now. True when it starts a burst (the maps were up
    to date), in which case the caller queues the recompute. Prefer `changemaps_mark_dirty`.

    One UPDATE: it runs after every saved answer, so it counts and marks in one round trip (two
    callers at once queue behind the row lock, and the second sees the first's mark)."""
    now = now or timezone.now()
    row = _count_change(now)
    if row is None:  # the state row does not exist yet
        _state()
        row = _count_change(now)
    return bool(row[0])


def _count_change(now: datetime) -> tuple | None:
    meta = ChangeMapState._meta
    quote = connection.ops.quote_name
    generation, dirty_since, pk = (
        quote(meta.get_field(name).column) for name in ("generation", "dirty_since", "id")
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    # The row keeps the first change's time; "this call set it" is its time being `now` (two
    # callers within the same microsecond would both queue a recompute: harmless, it claims).
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {generation} = {generation} + 1, "  # noqa: S608 - names from the model, values bound # nosec B608
        f"{dirty_since} = COALESCE({dirty_since}, %s) WHERE {pk} = %s "
        f"RETURNING {dirty_since} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, ChangeMapState.SINGLETON, stamp])
        return cursor.fetchone()


def _note_change_and_queue() -> None:
    if changemaps_note_change():
        _queue_recompute()


def changemaps_mark_dirty() -> None:
    """Say that responses, waves or contacts changed, so the change maps need recomputing.

    Call it inside the transaction that makes the change. The change is counted when that
    transaction commits (not at all if it rolls back); the first change of a burst queues one
    recompute `debounce_seconds` later, the rest only count. Cheap: one small UPDATE.
    """
    transaction.on_commit(_note_change_and_queue)


def changemaps_mark_dirty_before_commit() -> None:
    """`changemaps_mark_dirty` for a short transaction about to commit: counts the change now,
    inside it (committed with it, undone with it: one commit instead of two), and queues the
    recompute after the commit when the change starts a burst.

    Call it as the transaction's last statement: from here to the commit the state row is
    locked, and every other writer of any input waits for it. Long transactions (imports) use
    `changemaps_mark_dirty`."""
    if changemaps_note_change():
        transaction.on_commit(_queue_recompute)


def changemaps_recompute(
    *, sweep: bool = False, now: datetime | None = None
) -> ComputeResult | None:
    """Recompute the latest wave's maps when they are out of date; the task's one service.

    Out of date: changed since the last compute, or computed longer ago than `max_age_hours`
    (or never). A `sweep` (beat) leaves a burst younger than `debounce_seconds` to the run the
    burst queued. Claims the state row first; returns None when there was nothing to do or
    another worker holds the claim (a claim older than `claim_timeout_seconds` is taken over).
    Changes made while computing stay counted and queue one more run.
    """
    config = settings.CHANGE_MAP
    now = now or timezone.now()
    state = _state()
    dirty = state.is_dirty
    if sweep and dirty and state.dirty_since:
        dirty = state.dirty_since <= now - timedelta(seconds=config["debounce_seconds"])
    stale = state.computed_at is None or state.computed_at <= now - timedelta(
        hours=config["max_age_hours"]
    )
    if not (dirty or stale):
        return None
    rows = ChangeMapState.objects.filter(pk=ChangeMapState.SINGLETON)
    expired = now - timedelta(seconds=config["claim_timeout_seconds"])
    if not rows.filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=expired)).update(
        claimed_at=now
    ):
        return None
    # Everything counted up to here is committed, so the compute below reads it.
    generation = rows.values_list("generation", flat=True).get()
    try:
        result = changemaps_compute()
    finally:
        rows.filter(claimed_at=now).update(claimed_at=None)
    finished = timezone.now()
    rows.update(
        computed_generation=generation,
        computed_at=finished,
        computed_wave_id=result.wave_ids[-1] if result.wave_ids else None,
        duration_seconds=round(result.seconds, 3),
    )
    rows.filter(generation=generation).update(dirty_since=None)
    if rows.filter(generation__gt=generation).update(dirty_since=finished):
        transaction.on_commit(_queue_recompute)
    return result
