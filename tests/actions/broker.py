"""Point this process's Celery publishing at another broker for one test, and back."""

import contextlib

from config.celery import app


def _forget_connections() -> None:
    # The app keeps a connection pool and a producer pool made for the broker it first used.
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def broker(url: str, transport_options: dict):
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.broker_transport_options = url, transport_options
    _forget_connections()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        _forget_connections()
