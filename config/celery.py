"""The Celery application: tasks are autodiscovered from each app's ``tasks.py``."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_filesystem_broker_folders() -> None:
    """Kombu's filesystem transport needs its folders before anyone publishes or consumes."""
    if app.conf.broker_url.startswith("filesystem://"):
        options = app.conf.broker_transport_options
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_broker(sender, **kwargs):
    ensure_filesystem_broker_folders()


@after_setup_logger.connect
def _quiet(logger, **kwargs):
    # Worker logs are for operators; the kombu chatter at INFO is not.
    import logging

    logging.getLogger("kombu").setLevel(logging.WARNING)
