"""Change-map tasks: a thin interface to `changemaps.services.changemaps_recompute`.

Queued by `changemaps.services.changemaps_mark_dirty` (once per burst of changes, after the
transaction commits) and by beat every few minutes with `sweep=True`. Safe to run twice or
concurrently: the service claims the work in the database and does nothing when the maps are
up to date.
"""

from celery import shared_task

from changemaps.services import changemaps_recompute


@shared_task(ignore_result=True)
def recompute_changemaps(sweep: bool = False):
    changemaps_recompute(sweep=sweep)
