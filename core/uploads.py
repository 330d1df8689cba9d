"""Uploaded files kept between a preview and its confirmation (imports of any kind).

An upload is previewed first and written only when the user confirms, in a second request. The
file waits under MEDIA_ROOT/<purpose>/ with a random, unguessable name; the caller keeps the token
in the session. Files nobody confirmed are removed after a day, whenever another is kept.
"""

import os
import re
import secrets
import time
from contextlib import suppress
from pathlib import Path

from django.conf import settings

MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
_PURPOSE = re.compile(r"[a-z_]+")


def _directory(purpose: str) -> Path:
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError("Not an upload purpose.")
    return Path(settings.MEDIA_ROOT) / purpose


def _path(purpose: str, token: str) -> Path:
    # The token comes back from the session; check its shape anyway so it never names a path.
    if not _TOKEN.fullmatch(token):
        raise ValueError("Not an upload token.")
    return _directory(purpose) / f"{token}.upload"


def upload_keep(data: bytes, *, purpose: str) -> str:
    """Keep `data` until it is confirmed; returns the token to fetch it with.

    The file is readable by this process's user only: uploads hold personal data.
    """
    directory = _directory(purpose)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - MAX_AGE_SECONDS
    for kept in directory.glob("*.upload"):
        with suppress(FileNotFoundError):  # another request may be removing it right now
            if kept.stat().st_mtime < cutoff:
                kept.unlink()
    token = secrets.token_urlsafe(32)
    descriptor = os.open(_path(purpose, token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        kept.write(data)
    return token


def upload_take(token: str, *, purpose: str) -> bytes | None:
    """The kept file's content, removing it; None if it is gone (expired or already taken)."""
    try:
        path = _path(purpose, token)
        data = path.read_bytes()
    except (ValueError, FileNotFoundError):
        return None
    path.unlink(missing_ok=True)
    return data


def upload_discard(token: str, *, purpose: str) -> None:
    """Remove a kept file that will not be confirmed (a new upload replaced it)."""
    try:
        _path(purpose, token).unlink(missing_ok=True)
    except ValueError:
        return
