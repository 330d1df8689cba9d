"""Uploads kept between preview and confirmation: private, single-use, never a path from outside."""

import os
import time

import pytest

from core.uploads import MAX_AGE_SECONDS, upload_discard, upload_keep, upload_take


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_kept_upload_is_private_and_can_be_taken_once(media):
    token = upload_keep(b"name,email\n", purpose="imports")

    (path,) = (media / "imports").iterdir()
    assert token in path.name
    assert path.stat().st_mode & 0o077 == 0
    assert upload_take(token, purpose="imports") == b"name,email\n"
    assert upload_take(token, purpose="imports") is None


@pytest.mark.parametrize("token", ["../../etc/passwd", "short", "a/b" * 10, ""])
def test_tokens_that_are_not_ours_never_reach_the_filesystem(token):
    assert upload_take(token, purpose="imports") is None
    upload_discard(token, purpose="imports")  # no error, nothing removed


def test_uploads_nobody_confirmed_are_removed_after_a_day(media):
    old = upload_keep(b"old", purpose="imports")
    stale = time.time() - MAX_AGE_SECONDS - 60
    (old_path,) = (media / "imports").iterdir()
    os.utime(old_path, (stale, stale))

    new = upload_keep(b"new", purpose="imports")

    assert upload_take(old, purpose="imports") is None
    assert upload_take(new, purpose="imports") == b"new"
