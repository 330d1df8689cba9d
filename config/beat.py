"""Beat's scheduler: django-celery-beat's database scheduler, made to ride out a database
outage.

The stock scheduler logs and carries on when some of its queries fail, but not all of them:
an error mid-tick stops beat, and an entry popped from the heap before the error would be lost
until the next full reload. Here any database error in a tick invalidates the heap (rebuilt
from the schedule on the next tick), drops the broken connection, and waits with back-off
(5 s, doubling, at most a minute) before trying again. Entries due meanwhile run on the first
tick after the database returns; every scheduled task is a sweep that catches up on its own.
Beat started while the database is away waits for it the same way.
"""

import logging
import time

from django.db import DatabaseError, InterfaceError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import DATABASE_RETRY_BACKOFF, DATABASE_RETRY_BACKOFF_MAX

logger = logging.getLogger(__name__)


class ResilientDatabaseScheduler(DatabaseScheduler):
    _database_failures = 0

    def setup_schedule(self):
        # Beat (re)started while the database is away: wait for it instead of exiting.
        while True:
            try:
                super().setup_schedule()
            except (DatabaseError, InterfaceError) as error:
                time.sleep(self._wait_for_database(error))
            else:
                self._database_failures = 0
                return

    def tick(self, *args, **kwargs):
        try:
            interval = super().tick(*args, **kwargs)
        except (DatabaseError, InterfaceError) as error:
            return self._wait_for_database(error)
        if self._database_failures:
            logger.warning("Beat: the database is back; the schedule carries on")
            self._database_failures = 0
        return interval

    def sync(self):
        try:
            super().sync()
        except (DatabaseError, InterfaceError) as error:
            logger.warning("Beat: could not save the schedule (%s); will try again", error)
            close_old_connections()

    def _wait_for_database(self, error: Exception) -> float:
        close_old_connections()
        self._heap = None  # rebuilt from self.schedule, so no entry popped mid-tick is lost
        wait = min(
            DATABASE_RETRY_BACKOFF * 2 ** min(self._database_failures, 10),
            DATABASE_RETRY_BACKOFF_MAX,
        )
        self._database_failures += 1
        logger.warning(
            "Beat: the database is unavailable (%s); next try in %d s",
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
            wait,
        )
        return wait
