"""Composing Rapport's emails the one way: templates side by side, safe headers, stable ids.

Every email is `templates/emails/<name>_subject.txt`, `_body.txt` and `_body.html` (with an
optional `<name>_body.<language>.txt` in the recipient's language). A person's email goes out
"<Name> via Rapport" from our own address, replies go to that person, and every message carries
a Message-ID that is stable per step of its workflow, so that the rare duplicate no database
can prevent (a worker dying after the mail server accepted a message but before we recorded
it) is recognisable downstream. Names end up in headers: line breaks in them are flattened,
and a header that would still hold one is refused rather than sent.

Mirrors the conventions of `pulses.services.sending`, which may import these instead of its
own copies.
"""

import smtplib
import unicodedata
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import select_template
from django.utils import translation

DEFAULT_LANGUAGE = "en"
# Errors worth another try later: the mail server or the network is unwell.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


class HeaderInjectionError(ValueError):
    """A header value would contain a line break."""


def header_text(value: str) -> str:
    """`value` on one line: control characters become spaces, runs of spaces one space."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(value))
    return " ".join(cleaned.split())


def refuse_line_breaks(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise HeaderInjectionError(f"The {name} header would contain a line break.")


def is_bounce(error: smtplib.SMTPRecipientsRefused) -> bool:
    """A permanent refusal (5xx for every recipient), not "try again later" (4xx)."""
    codes = [code for code, _message in error.recipients.values()]
    return bool(codes) and all(code >= 500 for code in codes)


def error_text(error: BaseException, limit: int = 500) -> str:
    return f"{type(error).__name__}: {error}"[:limit]


def from_address() -> Address:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return Address(addr_spec=address or "rapport@localhost")


def message_id(*parts) -> str:
    """A stable Message-ID for one step of one workflow: `message_id("ack", 7, "receipt")`."""
    return f"<{'-'.join(str(p) for p in parts)}@{from_address().domain or 'localhost'}>"


def site_url(path: str) -> str:
    return settings.RAPPORT_SITE_URL.rstrip("/") + path


def render_email(
    name: str, context: dict, language: str = DEFAULT_LANGUAGE
) -> tuple[str, str, str]:
    """(subject, text, html) of `emails/<name>_*`, in `language` where templates exist."""

    def render(part: str, extension: str) -> str:
        base = f"emails/{name}_{part}.{extension}"
        candidates = [base]
        if language and language != DEFAULT_LANGUAGE:
            candidates.insert(0, f"emails/{name}_{part}.{language}.{extension}")
        return select_template(candidates).render(context)

    with translation.override(language or DEFAULT_LANGUAGE):
        return (
            header_text(render("subject", "txt")),
            render("body", "txt"),
            render("body", "html"),
        )


def mailbox(name: str, address: str) -> str:
    """`"Name" <address>` with the name flattened onto one line."""
    return str(Address(display_name=header_text(name), addr_spec=address))


def compose_email(
    *,
    name: str,
    context: dict,
    to: list[str],
    message_id: str,
    sender_name: str = "",
    reply_to: list[str] | None = None,
    cc: list[str] | None = None,
    language: str = DEFAULT_LANGUAGE,
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One email from its three templates: From "<sender_name> via Rapport" (or plain Rapport)
    at our address, the given recipients (already `mailbox()`-formatted), and the Message-ID.

    Raises HeaderInjectionError when a header would still hold a line break.
    """
    subject, text, html = render_email(name, context, language)
    sender = from_address()
    display = f"{header_text(sender_name)} via Rapport" if sender_name else "Rapport"
    from_header = str(Address(display_name=display, username=sender.username, domain=sender.domain))
    all_headers = {"Message-ID": message_id, **(headers or {})}
    refuse_line_breaks(
        {
            "Subject": subject,
            "From": from_header,
            "To": ", ".join(to),
            "Cc": ", ".join(cc or []),
            "Reply-To": ", ".join(reply_to or []),
            **all_headers,
        }
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_header,
        to=to,
        cc=cc or [],
        reply_to=reply_to or [],
        headers=all_headers,
    )
    message.attach_alternative(html, "text/html")
    return message
