"""The documented shape of a subject-access export (OpenAPI 3.0 schema, used by the API docs
and by the tests to check every export against it)."""


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE_TIME = _nullable({"type": "string", "format": "date-time"})
DATE = _nullable({"type": "string", "format": "date"})
USER = _nullable(
    {
        "type": "object",
        "description": "Someone on our side.",
        "properties": {"id": INTEGER, "full_name": STRING, "email": STRING},
    }
)


WAVE = {
    "type": "object",
    "properties": {"id": INTEGER, "name": STRING, "opens_on": DATE},
}


def _object(doc: str = "", /, **properties) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    if doc:
        schema["description"] = doc
    return schema


def _list_of(doc: str, /, **properties) -> dict:
    return {"type": "array", "description": doc, "items": _object(**properties)}


SUBJECT_ACCESS_SCHEMA = _object(
    "Everything Rapport holds on one person (format rapport-subject-access, version 1). Other "
    "people appear by id only; link tokens never appear.",
    format=STRING,
    version=INTEGER,
    generated_at=DATE_TIME,
    contact=_object(
        "Their profile as it is now.",
        id=INTEGER,
        account=_object(id=INTEGER, name=STRING),
        name=STRING,
        email=STRING,
        phone=STRING,
        job_title=STRING,
        department=STRING,
        seniority=STRING,
        location=STRING,
        time_zone=STRING,
        preferred_language=STRING,
        roles={"type": "array", "items": STRING},
        budget_amount=_nullable({"type": "string", "description": "A decimal, as text."}),
        budget_currency=STRING,
        influence=_nullable(INTEGER),
        status=STRING,
        left_on=DATE,
        reports_to=_nullable(INTEGER),
        owner=USER,
        preferred_channel=STRING,
        contact_frequency=STRING,
        pulse_consent=STRING,
        pulse_consent_at=DATE_TIME,
        notes=STRING,
        erased_at=DATE_TIME,
        created_at=DATE_TIME,
        updated_at=DATE_TIME,
    ),
    history=_list_of(
        "Every version of the profile, oldest first: who changed it, when, why.",
        at=DATE_TIME,
        type={"type": "string", "enum": ["created", "changed", "deleted"]},
        by=USER,
        reason=STRING,
        record={
            "type": "object",
            "description": "The profile's fields as of that version.",
            "additionalProperties": True,
        },
    ),
    relationships=_list_of(
        "Our people who know them, and how well (1–5).",
        user=USER,
        strength=INTEGER,
        notes=STRING,
        created_at=DATE_TIME,
    ),
    influence_links=_list_of(
        "How they and others in their account affect each other.",
        direction={"type": "string", "enum": ["out", "in"]},
        other_contact_id=INTEGER,
        kind=STRING,
        strength=INTEGER,
        created_at=DATE_TIME,
    ),
    log_entries=_list_of(
        "Account-log entries that mention them (tagged, or naming them).",
        id=INTEGER,
        kind=STRING,
        occurred_on=DATE,
        title=STRING,
        body=STRING,
        author=USER,
        created_at=DATE_TIME,
    ),
    invitations=_list_of(
        "Every pulse invitation (the link itself is never shown).",
        id=INTEGER,
        wave=WAVE,
        status=STRING,
        sent_at=DATE_TIME,
        reminders_sent=INTEGER,
        last_reminded_at=DATE_TIME,
        first_opened_at=DATE_TIME,
        created_at=DATE_TIME,
    ),
    unsubscribes=_list_of("When and how they opted out.", at=DATE_TIME, method=STRING),
    responses=_list_of(
        "Their answers, in their own words.",
        id=INTEGER,
        wave=WAVE,
        source=STRING,
        recorded_by=USER,
        language=STRING,
        score=_nullable(INTEGER),
        submitted_at=DATE_TIME,
        updated_at=DATE_TIME,
        answers={
            "type": "array",
            "items": _object(
                question=STRING,
                kind=STRING,
                purpose=STRING,
                prompt=STRING,
                number=_nullable(INTEGER),
                text=STRING,
                choice=STRING,
            ),
        },
    ),
    acknowledgements=_list_of(
        "How we acknowledged each response, with the replies we sent.",
        id=INTEGER,
        response=INTEGER,
        owner=USER,
        status=STRING,
        method=STRING,
        received_at=DATE_TIME,
        due_at=DATE_TIME,
        urgent=BOOLEAN,
        urgent_reason=STRING,
        acknowledged_at=DATE_TIME,
        acknowledged_by=USER,
        note=STRING,
        reply_subject=STRING,
        reply_body=STRING,
        emails={
            "type": "array",
            "items": _object(kind=STRING, status=STRING, sent_at=DATE_TIME),
        },
    ),
    actions=_list_of(
        "Actions raised by them, from their responses, or naming them.",
        id=INTEGER,
        title=STRING,
        description=STRING,
        status=STRING,
        is_focus=BOOLEAN,
        owner=USER,
        raised_by_them=BOOLEAN,
        source_response=_nullable(INTEGER),
        you_said_we_did=STRING,
        created_at=DATE_TIME,
        done_at=DATE_TIME,
        updates={
            "type": "array",
            "items": _object(at=DATE_TIME, author=USER, text=STRING, status=STRING),
        },
    ),
    reviews=_list_of(
        "How our team judged their feedback.",
        id=INTEGER,
        response=_nullable(INTEGER),
        fairness=STRING,
        nature=STRING,
        not_mentioned=STRING,
        notes=STRING,
        author=USER,
        updated_at=DATE_TIME,
    ),
    candidacies=_list_of(
        "Referral or case-study candidacies, with their consent.",
        id=INTEGER,
        kind=STRING,
        response=_nullable(INTEGER),
        quote=STRING,
        consent=STRING,
        consent_note=STRING,
        consent_recorded_at=DATE_TIME,
        created_at=DATE_TIME,
    ),
    quotes=_list_of(
        "Their words proposed for reports, and what they approved.",
        id=INTEGER,
        response=INTEGER,
        side=STRING,
        original_text=STRING,
        text=STRING,
        credit=STRING,
        status=STRING,
        requested_at=DATE_TIME,
        decided_at=DATE_TIME,
    ),
    summaries=_list_of(
        '"You said, we did" summaries emailed to them.',
        sent_on=DATE,
        statements={"type": "array", "items": {}},
        status=STRING,
        sent_at=DATE_TIME,
    ),
    change_map=_list_of(
        "How the change maps classified their relationship, per wave.",
        wave=WAVE,
        category=STRING,
        previous_category=STRING,
        reason=STRING,
        last=_nullable(INTEGER),
        prev=_nullable(INTEGER),
        delta=_nullable(INTEGER),
    ),
)
