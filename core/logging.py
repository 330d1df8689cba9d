"""Logging helpers, importable while settings load (no models here)."""

import logging
import re


class RedactLinkTokens(logging.Filter):
    """Replace personal link tokens in log lines (request paths) with "…".

    Installed on every log handler in settings.LOGGING: Django logs the path of every 4xx/5xx
    response, and runserver logs every request line.
    """

    # /p/<token>/: pulse survey and unsubscribe links; /q/<token>/: quote approval links;
    # /reset/<uid>/<token>/: Django's emailed password-reset links.
    TOKEN_PATH = re.compile(r"(/[pq]/|/reset/[^/\s?\"']+/)[^/\s?\"']+")

    def filter(self, record):
        message = record.getMessage()
        redacted = self.TOKEN_PATH.sub(r"\1…", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
