"""Stored-XSS payloads, and filling every free-text field of every row with them.

Each payload calls `__xss(n)` when it runs (the browser test defines it), and each payload that
is markup carries a `data-xss` attribute, so an unescaped payload is caught even when it does
not run. Payloads rotate over fields and rows, so every payload lands in several fields.
"""

from django.apps import apps
from django.db import IntegrityError, models, transaction

PROJECT_APPS = {"accounts", "contacts", "pulses", "actions", "changemaps", "core", "reports"}

_TEMPLATES = [
    "<script data-xss>__xss({n})</script>",
    "<img data-xss src=x onerror=__xss({n})>",
    "<svg data-xss onload=__xss({n})>",
    '"><img data-xss src=x onerror=__xss({n})>',
    "'><img data-xss src=x onerror=__xss({n})>",
    "</script><script data-xss>__xss({n})</script>",
    "</textarea><img data-xss src=x onerror=__xss({n})>",
    "</title><img data-xss src=x onerror=__xss({n})>",
    "<body data-xss onload=__xss({n})>",
    "<details data-xss open ontoggle=__xss({n})>",
    "<input data-xss autofocus onfocus=__xss({n})>",
    "<video data-xss><source onerror=__xss({n})></video>",
    "<audio data-xss src=x onerror=__xss({n})>",
    '<iframe data-xss srcdoc="<script>parent.__xss({n})</script>">',
    '<object data-xss data="javascript:__xss({n})">',
    '<a data-xss href="javascript:__xss({n})" id=xss{n}>x</a>',
    "<math><mtext><img data-xss src=x onerror=__xss({n})></mtext></math>",
    "<style>@import 'x'</style><img data-xss src=x onerror=__xss({n})>",
    "<svg><script data-xss>__xss({n})</script></svg>",
    "<marquee data-xss onstart=__xss({n})>x</marquee>",
    '" onmouseover="__xss({n})" data-xss="',
    "' onfocus='__xss({n})' autofocus data-xss='",
    '" autofocus onfocus="__xss({n})" data-xss="',
    "javascript:__xss({n})//",
    "';__xss({n});//",
    '";__xss({n});//',
    "`;__xss({n});//",
    "${{__xss({n})}}",
    "{{{{constructor.constructor('__xss({n})')()}}}}",
    "<img data-xss src=x:x onerror=&#95;&#95;xss({n})>",
    "<IMG DATA-XSS SRC=x ONERROR=__xss({n})>",
    "<img/data-xss/src=x/onerror=__xss({n})>",
    "<svg/data-xss/onload=__xss({n})>",
    "<scr<script>ipt data-xss>__xss({n})</scr</script>ipt>",
    "<!--<img data-xss src=x onerror=__xss({n})>-->",
    '<base href="javascript:__xss({n})//"><a data-xss href=x>x</a>',
    "<form data-xss><button formaction=javascript:__xss({n})>x</button></form>",
    '<div data-xss style="background:url(javascript:__xss({n}))">x</div>',
    '<img data-xss src="x" onerror="eval(atob(\'X194c3M=\'))({n})">',
    "<template><img data-xss src=x onerror=__xss({n})></template>x",
    "<select data-xss autofocus onfocus=__xss({n})></select>",
    "<textarea data-xss autofocus onfocus=__xss({n})></textarea>",
    "<keygen data-xss autofocus onfocus=__xss({n})>",
    "%3Cscript%3E__xss({n})%3C/script%3E<img data-xss src=x onerror=__xss({n})>",
    "\u2028<img data-xss src=x onerror=__xss({n})>\u2029",
]
PAYLOADS = [template.format(n=n) for n, template in enumerate(_TEMPLATES, start=1)]

# Text columns that are not free text: secrets, identifiers, codes checked by validators.
NOT_FREE_TEXT = {
    "password", "email", "token_nonce", "token_hash", "key_hash", "key_prefix", "secret",
    "message_id", "language", "preferred_language", "time_zone", "budget_currency", "key",
    "code", "history_change_reason", "history_type", "url", "worker", "target_type",
    "target_id", "status", "kind", "stage", "audience", "credit", "side", "method", "source",
    "event", "dimension", "category", "previous_category", "choice",
}  # fmt: skip


def free_text_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not isinstance(f, models.EmailField | models.URLField | models.SlugField)
        and not f.choices
        and f.name not in NOT_FREE_TEXT
    ]


def fill_every_free_text_field(payloads: list[str] = PAYLOADS) -> dict[str, int]:
    """Put a payload into every free-text field of every row; returns how many fields each
    payload went into (each should be several)."""
    placed: dict[str, int] = {}
    for model in apps.get_models():
        if model.__module__.split(".")[0] not in PROJECT_APPS or model._meta.proxy:
            continue
        fields = free_text_fields(model)
        if not fields:
            continue
        for pk in model.objects.values_list("pk", flat=True):
            changes = {}
            for field in fields:
                # The least-placed payload that fits, so every payload lands in several fields.
                fitting = [
                    p for p in payloads if field.max_length is None or len(p) <= field.max_length
                ]
                if fitting:
                    payload = min(fitting, key=lambda p: (placed.get(p, 0), payloads.index(p)))
                    changes[field.attname] = payload
                    placed[payload] = placed.get(payload, 0) + 1
            for field in fields:
                if field.unique and field.attname in changes:
                    changes[field.attname] = f"{changes[field.attname]} #{pk}"
            _update(model, pk, changes)
    return placed


def _update(model, pk, changes: dict) -> None:
    """All changes at once, or field by field when a constraint refuses some (e.g. a "you
    said, we did" only on a done action): those fields keep their value. Append-only models
    (the audit log) refuse updates: they get a copy of the row that holds the payloads."""
    try:
        with transaction.atomic():
            model.objects.filter(pk=pk).update(**changes)
    except TypeError:
        row = model.objects.filter(pk=pk).values().get()
        row.pop(model._meta.pk.attname)
        model.objects.create(**(row | changes))
    except IntegrityError:
        for name, value in changes.items():
            try:
                with transaction.atomic():
                    model.objects.filter(pk=pk).update(**{name: value})
            except IntegrityError:
                continue
