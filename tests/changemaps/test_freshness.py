"""Keeping change maps fresh: a burst of changes queues one recompute, workers never compute
twice at once, the beat sweep catches what a lost message left behind."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from changemaps import services
from changemaps.models import ChangeMapState, ContactSnapshot
from changemaps.services import (
    changemaps_mark_dirty,
    changemaps_note_change,
    changemaps_recompute,
)
from changemaps.tasks import recompute_changemaps

pytestmark = pytest.mark.django_db


def state() -> ChangeMapState:
    return ChangeMapState.objects.get(pk=ChangeMapState.SINGLETON)


def test_a_burst_of_changes_starts_once_and_counts_every_change(db):
    started = timezone.now()
    assert changemaps_note_change(now=started) is True
    assert changemaps_note_change(now=started + timedelta(seconds=5)) is False
    assert changemaps_note_change(now=started + timedelta(seconds=9)) is False
    assert (state().generation, state().dirty_since) == (3, started)
    assert state().is_dirty


def test_mark_dirty_counts_only_once_the_transaction_commits(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        changemaps_mark_dirty()
        changemaps_mark_dirty()
    assert len(callbacks) == 2
    assert not ChangeMapState.objects.filter(generation__gt=0).exists()


def test_mark_dirty_queues_a_recompute_that_computes(
    world, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        changemaps_mark_dirty()
    assert ContactSnapshot.objects.filter(wave=world.latest).count() == 5
    assert not state().is_dirty
    assert state().computed_wave == world.latest


def test_recompute_runs_when_dirty_and_then_rests(world):
    changemaps_note_change()
    changemaps_note_change()
    result = changemaps_recompute()
    assert result.wave_ids == [world.latest.pk]
    current = state()
    assert (current.computed_generation, current.dirty_since, current.claimed_at) == (2, None, None)
    assert current.duration_seconds is not None
    assert changemaps_recompute() is None
    assert changemaps_recompute(sweep=True) is None


def test_the_sweep_leaves_a_young_burst_to_its_own_run(world):
    changemaps_recompute()  # never computed: runs
    first = timezone.now()
    changemaps_note_change(now=first)
    debounce = settings.CHANGE_MAP["debounce_seconds"]
    assert changemaps_recompute(sweep=True, now=first + timedelta(seconds=debounce - 1)) is None
    assert changemaps_recompute(sweep=True, now=first + timedelta(seconds=debounce)) is not None
    assert not state().is_dirty


def test_maps_older_than_a_day_are_recomputed_even_when_nothing_changed(world):
    changemaps_recompute()
    later = timezone.now() + timedelta(hours=settings.CHANGE_MAP["max_age_hours"], seconds=1)
    assert changemaps_recompute(sweep=True, now=later) is not None


def test_a_claimed_recompute_is_not_done_twice_until_the_claim_expires(world):
    changemaps_note_change()
    now = timezone.now()
    ChangeMapState.objects.filter(pk=1).update(claimed_at=now - timedelta(minutes=1))
    assert changemaps_recompute(now=now) is None
    assert state().is_dirty
    expired = now + timedelta(seconds=settings.CHANGE_MAP["claim_timeout_seconds"])
    assert changemaps_recompute(now=expired) is not None
    assert not state().is_dirty


def test_changes_while_computing_keep_the_maps_dirty_and_queue_one_more_run(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    changemaps_note_change()
    compute = services.changemaps_compute

    def compute_while_an_answer_arrives(**kwargs):
        result = compute(**kwargs)
        assert changemaps_note_change() is False  # the burst is still open: no second queue
        return result

    monkeypatch.setattr(services, "changemaps_compute", compute_while_an_answer_arrives)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert changemaps_recompute() is not None
    current = state()
    assert (current.generation, current.computed_generation) == (2, 1)
    assert current.dirty_since is not None
    assert len(callbacks) == 1  # one more run, after the debounce


def test_a_failed_recompute_releases_its_claim_and_stays_dirty(world, monkeypatch):
    changemaps_note_change()

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "changemaps_compute", broken)
    with pytest.raises(RuntimeError):
        changemaps_recompute()
    assert state().claimed_at is None
    assert state().is_dirty


def test_the_task_calls_the_service(world, eager_celery):
    changemaps_note_change()
    recompute_changemaps.delay()
    assert not state().is_dirty
    assert ContactSnapshot.objects.exists()


def test_beat_sweeps_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["changemaps-recompute-sweep"]
    assert entry["task"] == recompute_changemaps.name
    assert entry["kwargs"] == {"sweep": True}
    assert entry["schedule"] <= 10 * 60
