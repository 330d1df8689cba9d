"""ETags on every successful GET: a hash of the representation this user receives, so a client
that sends it back in `If-None-Match` gets 304 and no body when nothing changed."""

import hashlib
import json

from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder


def etag_for(data) -> str:
    payload = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'


def if_none_match(request, etag: str) -> bool:
    """True when the client already holds `etag` (weak comparison, RFC 9110 §13.1.2)."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == wanted for tag in parse_etags(header))


class ETagMixin:
    """For viewsets: tag 200 GET answers with an ETag and answer a matching If-None-Match with
    304. Hashing the data costs one more JSON encoding; the database work is already done, so
    the saving is the transfer, which is what a syncing client cares about."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == status.HTTP_200_OK
            and hasattr(response, "data")  # files (a report's PDF) are streamed as they are
        ):
            etag = etag_for(response.data)
            if if_none_match(request, etag):
                not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
                not_modified = super().finalize_response(request, not_modified, *args, **kwargs)
                response = not_modified
            response["ETag"] = etag
            # The representation depends on who asks: caches must not share it.
            response["Cache-Control"] = "private, no-cache"
            response["Vary"] = "Authorization, Cookie"
        return response
