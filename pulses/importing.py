"""Import pulse answers people gave before Rapport (CSV or XLSX), into historic waves.

The conventions of the people import (contacts/importing.py) hold here too:

- `parse` reads the file into a frame of stripped strings with canonical column names, indexed
  by spreadsheet row number (header row 1); header names are matched ignoring case, spaces and
  punctuation, with the synonyms in `SYNONYMS`.
- `validate` checks every row against the file and the database and returns an `ImportPlan`
  with every error, or what each row would do; nothing is written.
- `apply` writes a valid plan in one transaction. All or nothing.

Columns: `account`, `email`, `wave` (a wave name, or an ISO date such as 2025-03-15), `score`
(0–10), `keep_doing`, `improve`, and optionally `comment` and `answered_at` (ISO date or date
and time). A row is one contact's response in one wave:

- The contact is found by account + email; nobody is created.
- A wave given as a date becomes "Pulse of March 2025", opening on the earliest date given for
  it; a wave given by name opens on the earliest `answered_at` of its rows. Missing waves are
  created as historic waves (no programme, closed) on the default questionnaire's current
  version, which is frozen; an existing historic wave of that name is used as it is.
- `score`, `keep_doing`, `improve` and `comment` fill the version's relationship score, its
  "what goes well" and "what to improve" questions, and its optional open question.
- Each response is written through `response_record` with source "import"; importing the same
  file again updates by (wave, contact) and leaves unchanged rows alone. Answers the contact
  gave themselves, or that someone recorded from an interview, are never overwritten.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, User
from contacts.importing import importable_accounts
from contacts.models import Contact
from core.imports import (
    Action,
    ImportFileError,
    PlanSummary,
    RowError,
    RowErrors,
    normal_text,
    read_rows,
)
from pulses.models import (
    MAX_ANSWER_LENGTH,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    Wave,
)
from pulses.services.questionnaires import questionnaire_version_for_sending
from pulses.services.responses import response_record
from pulses.services.waves import wave_name

LABELS = {
    "account": "Account",
    "email": "Email",
    "wave": "Wave",
    "score": "Score",
    "keep_doing": "Keep doing",
    "improve": "Improve",
    "comment": "Comment",
    "answered_at": "Answered at",
}
COLUMNS = tuple(LABELS)
REQUIRED = ("account", "email", "wave")
ANSWER_COLUMNS = ("score", "keep_doing", "improve", "comment")
SYNONYMS = {
    "account": (
        "account name",
        "company",
        "company name",
        "client",
        "customer",
        "organisation",
        "organization",
    ),
    "email": ("e-mail", "email address", "e-mail address", "contact email", "mail"),
    "wave": ("pulse", "survey", "wave name", "pulse name", "period"),
    "score": ("relationship score", "relationship", "score (0-10)", "rating", "nps"),
    "keep_doing": (
        "keep",
        "what should we keep doing",
        "going well",
        "what goes well",
        "strengths",
    ),
    "improve": (
        "improvement",
        "to improve",
        "change",
        "what one thing should we change",
        "one thing to change",
    ),
    "comment": ("comments", "anything else", "other comments", "notes"),
    "answered_at": (
        "answered",
        "answered on",
        "submitted",
        "submitted at",
        "response date",
        "date answered",
    ),
}


HEADER_ALIASES = {
    normal_text(alias): column
    for column, aliases in SYNONYMS.items()
    for alias in (column, *aliases)
}


@dataclass
class WavePlan:
    """A wave the rows go into: an existing historic wave, or one to create."""

    name: str
    opens_on: date | None = None
    closes_at: datetime | None = None
    first_answer: date | None = None
    wave: Wave | None = None  # the existing wave, or the one `apply` created
    is_new: bool = True
    rows: list[int] = field(default_factory=list)


@dataclass
class RowPlan:
    row: int
    action: Action
    contact: Contact
    wave: WavePlan
    values: dict[str, object]  # column → value (int score, text)
    answered_at: datetime | None  # None: when the wave opened

    @property
    def submitted_at(self) -> datetime:
        if self.answered_at is not None:
            return self.answered_at
        return timezone.make_aware(datetime.combine(self.wave.opens_on, time(12)))


@dataclass
class ImportPlan(PlanSummary):
    filename: str
    rows: list[RowPlan] = field(default_factory=list)
    waves: list[WavePlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def new_waves(self) -> list[WavePlan]:
        return [wave for wave in self.waves if wave.is_new]

    @property
    def has_changes(self) -> bool:
        return bool(self.new_waves) or any(r.action is not Action.UNCHANGED for r in self.rows)


# --- Parse ----------------------------------------------------------------------------------------


def parse(data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV or XLSX file into (rows, ignored header names); see the module docstring.

    Raises ImportFileError when the file cannot be read or two headers mean the same column.
    """
    return read_rows(data, aliases=HEADER_ALIASES, labels=LABELS)


# --- Validate -------------------------------------------------------------------------------------


def parse_date(cell: str) -> date | None:
    """An ISO date, or the date of an ISO date and time (Excel writes "2025-03-15 00:00:00")."""
    try:
        return date.fromisoformat(cell)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(cell).date()
    except ValueError:
        return None


def parse_moment(cell: str) -> datetime | None:
    """An ISO date and time (a bare date means noon), in the site's time zone unless it says."""
    try:
        moment = datetime.fromisoformat(cell)
    except ValueError:
        return None
    if len(cell) <= len("2025-03-15"):
        moment = datetime.combine(moment.date(), time(12))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_score(cell: str) -> tuple[int | None, str | None]:
    if not cell:
        return None, None
    try:
        number = float(cell.replace(",", "."))
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        return None, f"Score must be a whole number from 0 to 10 (got “{cell}”)."
    if not 0 <= number <= 10:
        return None, f"Score must be from 0 to 10 (got {cell})."
    return int(number), None


@dataclass(frozen=True)
class QuestionMap:
    """Which question of a version each answer column fills (column → question key)."""

    keys: dict[str, str]

    @classmethod
    def of(cls, version: QuestionnaireVersion) -> "QuestionMap":
        keys = {}
        for question in version.questions.all():
            if question.kind == Question.Kind.RELATIONSHIP_SCORE:
                keys.setdefault("score", question.key)
            elif question.kind == Question.Kind.OPEN_TEXT:
                column = {
                    Question.Purpose.KEEP_DOING: "keep_doing",
                    Question.Purpose.IMPROVE: "improve",
                }.get(question.purpose, "comment")
                keys.setdefault(column, question.key)
        return cls(keys)

    def answers(self, values: dict[str, object]) -> dict[str, object]:
        return {self.keys[column]: value for column, value in values.items() if value != ""}


def _default_version() -> QuestionnaireVersion | None:
    questionnaire = Questionnaire.objects.filter(is_default=True).first()
    return questionnaire.current_version if questionnaire else None


def _plan_waves(frame, errors: RowErrors, answered: list[datetime | None]) -> list[WavePlan | None]:
    """The wave of every row (None where the cell is unusable), with opening dates."""
    by_name: dict[str, WavePlan] = {}
    row_waves: list[WavePlan | None] = []
    for (row, cell), moment in zip(frame["wave"].items(), answered, strict=True):
        if not cell:
            errors.add(row, "wave", "Wave is missing.")
            row_waves.append(None)
            continue
        given_date = parse_date(cell)
        name = wave_name(programme=None, opens_on=given_date) if given_date else cell
        if len(name) > Wave._meta.get_field("name").max_length:
            errors.add(row, "wave", "Wave names are at most 200 characters.")
            row_waves.append(None)
            continue
        plan = by_name.setdefault(name.casefold(), WavePlan(name=name))
        if given_date and (plan.opens_on is None or given_date < plan.opens_on):
            plan.opens_on = given_date
        if moment:
            if plan.first_answer is None or moment.date() < plan.first_answer:
                plan.first_answer = moment.date()
            if plan.closes_at is None or moment > plan.closes_at:
                plan.closes_at = moment
        plan.rows.append(row)
        row_waves.append(plan)

    existing = {
        wave.name.casefold(): wave
        for wave in Wave.objects.filter(programme__isnull=True).select_related(
            "questionnaire_version"
        )
        if wave.name.casefold() in by_name
    }
    for key, plan in by_name.items():
        plan.wave = existing.get(key)
        if plan.wave is not None:
            plan.name, plan.opens_on, plan.is_new = plan.wave.name, plan.wave.opens_on, False
            continue
        plan.opens_on = plan.opens_on or plan.first_answer
        if plan.opens_on is None:
            for row in plan.rows:
                errors.add(
                    row,
                    "wave",
                    f"No date for the new wave “{plan.name}”: give the wave as a date "
                    "(e.g. 2025-03-15) or fill in answered_at.",
                )
    return row_waves


def _contacts(frame, errors: RowErrors, *, user: User | None) -> list[Contact | None]:
    accounts = importable_accounts(user=user, names=frame["account"].unique())
    people = {
        (contact.account_id, contact.email.lower()): contact
        for contact in Contact.objects.filter(
            account__in=[a.pk for a in accounts.values()]
        ).select_related("account")
    }
    contacts = []
    for row, name, email in zip(frame.index, frame["account"], frame["email"], strict=True):
        account: Account | None = accounts.get(name.casefold())
        contact = None
        if not name:
            errors.add(row, "account", "Account is missing.")
        elif account is None:
            errors.add(row, "account", f"Unknown account “{name}”, or you may not import into it.")
        if not email:
            errors.add(row, "email", "Email is missing.")
        elif not _valid_email(email):
            errors.add(row, "email", f"“{email}” is not a valid email address.")
        elif account is not None:
            contact = people.get((account.pk, email.lower()))
            if contact is None:
                errors.add(
                    row,
                    "email",
                    f"Nobody with the email “{email}” in {account.name}: add them first.",
                )
        contacts.append(contact)
    return contacts


def _valid_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _row_values(frame, index: int, row: int, errors: RowErrors) -> dict[str, object]:
    values: dict[str, object] = {}
    bad_score = False
    if "score" in frame:
        score, error = parse_score(frame["score"].iat[index])
        if error:
            errors.add(row, "score", error)
            bad_score = True
        values["score"] = "" if score is None else score
    for column in ("keep_doing", "improve", "comment"):
        if column in frame:
            text = frame[column].iat[index]
            if len(text) > MAX_ANSWER_LENGTH:
                errors.add(
                    row,
                    column,
                    f"{LABELS[column]} is longer than {MAX_ANSWER_LENGTH:,} characters.",
                )
            values[column] = text
    if not bad_score and all(value == "" for value in values.values()):
        errors.add(row, "score", "The row has no answers (score, keep doing, improve, comment).")
    return values


def _saved_answers(response: Response) -> dict[str, object]:
    """What `response_saved_answers` gives, from answers prefetched with their questions."""
    saved = {}
    for answer in response.answers.all():
        kind = answer.question.kind
        if kind in Question.RANGES:
            saved[answer.question.key] = answer.number
        elif kind == Question.Kind.SINGLE_CHOICE:
            saved[answer.question.key] = answer.choice
        else:
            saved[answer.question.key] = answer.text
    return saved


def _action(plan: RowPlan, existing: dict, version_map: QuestionMap) -> Action | None:
    """Create, update or unchanged; None when the existing response is not ours to change."""
    response = existing.get((plan.wave.wave.pk if plan.wave.wave else None, plan.contact.pk))
    if response is None:
        return Action.CREATE
    if response.source != Response.Source.IMPORT:
        return None
    same = (
        _saved_answers(response) == version_map.answers(plan.values)
        and response.submitted_at == plan.submitted_at
    )
    return Action.UNCHANGED if same else Action.UPDATE


def validate(frame: pd.DataFrame, *, user: User | None = None, filename: str = "") -> ImportPlan:
    """Check every row and plan the import; nothing is written (see the module docstring).

    `user` limits the accounts to those they may contribute to; None is the operator's shell.
    """
    plan = ImportPlan(filename=filename)
    errors = RowErrors()
    missing = [column for column in REQUIRED if column not in frame]
    if missing:
        names = ", ".join(f"“{c}”" for c in missing)
        errors.add(
            1,
            ", ".join(missing),
            f"The file has no {names} column. The first row must hold the column names.",
        )
    elif not any(column in frame for column in ANSWER_COLUMNS):
        errors.add(
            1, "", "The file has no answers: add score, keep_doing, improve or comment columns."
        )
    elif frame.empty:
        errors.add(None, "", "The file has column names but no responses.")
    version = _default_version()
    if version is None:
        errors.add(None, "", "There is no default questionnaire with questions to import into.")
    if errors:
        plan.errors = errors
        return plan

    answered: list[datetime | None] = []
    now = timezone.now()
    for row, cell in frame["answered_at"].items() if "answered_at" in frame else []:
        moment = parse_moment(cell) if cell else None
        if cell and moment is None:
            errors.add(
                row, "answered_at", f"“{cell}” is not a date (use 2025-03-15 or 2025-03-15 14:30)."
            )
        elif moment and moment > now:
            errors.add(row, "answered_at", f"{cell} is in the future.")
            moment = None
        answered.append(moment)
    if "answered_at" not in frame:
        answered = [None] * len(frame)
    contacts = _contacts(frame, errors, user=user)
    row_waves = _plan_waves(frame, errors, answered)
    values = [_row_values(frame, i, row, errors) for i, row in enumerate(frame.index)]

    maps = {version.pk: QuestionMap.of(version)}
    for wave_plan in {id(w): w for w in row_waves if w and w.wave}.values():
        wave_version = wave_plan.wave.questionnaire_version
        maps.setdefault(wave_version.pk, QuestionMap.of(wave_version))
    existing = {
        (response.wave_id, response.contact_id): response
        for response in Response.objects.filter(
            wave__in=[w.wave for w in row_waves if w and w.wave],
            contact__in=[c for c in contacts if c],
        ).prefetch_related("answers__question")
    }
    first_row: dict[tuple[str, int], int] = {}
    for index, row in enumerate(frame.index):
        contact, wave_plan = contacts[index], row_waves[index]
        if contact is None or wave_plan is None:
            continue
        key = (wave_plan.name.casefold(), contact.pk)
        if key in first_row:
            errors.add(
                row,
                "email",
                f"{contact.email} already has a response for “{wave_plan.name}” on row {first_row[key]}.",
            )
            continue
        first_row[key] = row
        wave_version = wave_plan.wave.questionnaire_version if wave_plan.wave else version
        question_map = maps[wave_version.pk]
        missing_questions = [
            c for c, v in values[index].items() if v != "" and c not in question_map.keys
        ]
        for column in missing_questions:
            errors.add(
                row,
                column,
                f"The questionnaire of “{wave_plan.name}” has no question for {LABELS[column].lower()}.",
            )
        if missing_questions or wave_plan.opens_on is None:
            continue
        row_plan = RowPlan(
            row=row,
            action=Action.CREATE,
            contact=contact,
            wave=wave_plan,
            values=values[index],
            answered_at=answered[index],
        )
        action = _action(row_plan, existing, question_map)
        if action is None:
            errors.add(
                row,
                "email",
                f"{contact.name} already answered “{wave_plan.name}” (by link or in an "
                "interview); the import does not overwrite that.",
            )
            continue
        row_plan.action = action
        plan.rows.append(row_plan)
    if errors:
        order = {column: index for index, column in enumerate(COLUMNS)}
        plan.errors = sorted(
            errors, key=lambda e: (e.row or 0, order.get(e.column.split(",")[0], -1))
        )
        plan.rows = []
        return plan
    plan.waves = list({id(w): w for w in row_waves if w}.values())
    return plan


# --- Apply ----------------------------------------------------------------------------------------


@transaction.atomic
def apply(plan: ImportPlan, *, actor: User | None) -> None:
    """Write a valid plan in one transaction: the new historic waves, then every response that
    is new or changed, through `response_record` (source "import", recorded by `actor`)."""
    if not plan.is_valid:
        raise ValueError("An import with errors cannot be applied.")
    if plan.new_waves:
        questionnaire = Questionnaire.objects.get(is_default=True)
        version = questionnaire_version_for_sending(questionnaire=questionnaire)
        for wave_plan in plan.new_waves:
            closes_at = wave_plan.closes_at or timezone.make_aware(
                datetime.combine(wave_plan.opens_on, time.max)
            )
            wave_plan.wave = Wave.objects.create(
                name=wave_plan.name,
                questionnaire_version=version,
                opens_on=wave_plan.opens_on,
                closes_at=closes_at,
                status=Wave.Status.CLOSED,
                closed_at=closes_at,
            )
    maps: dict[int, QuestionMap] = {}
    for row in plan.rows:
        if row.action is Action.UNCHANGED:
            continue
        wave = row.wave.wave
        question_map = maps.setdefault(
            wave.questionnaire_version_id, QuestionMap.of(wave.questionnaire_version)
        )
        response_record(
            wave=wave,
            contact=row.contact,
            recorded_by=actor,
            source=Response.Source.IMPORT,
            answers=question_map.answers(row.values),
            submitted_at=row.submitted_at,
        )
    plan.written = True


def import_responses(
    data: bytes, *, filename: str, user: User | None = None, dry_run: bool = False
) -> ImportPlan:
    """Parse, validate and (unless `dry_run` or there are errors) write a file of historic
    answers. Returns the plan: its `errors` when nothing was written, else what each row did."""
    try:
        frame, ignored = parse(data)
    except ImportFileError as error:
        return ImportPlan(filename=filename, errors=[RowError(error.row, "", str(error))])
    with transaction.atomic():
        plan = validate(frame, user=user, filename=filename)
        plan.ignored_columns = ignored
        if plan.is_valid and plan.has_changes and not dry_run:
            try:
                with transaction.atomic():
                    apply(plan, actor=user)
            except (IntegrityError, ValidationError) as error:
                plan.rows, plan.waves = [], []
                plan.errors.append(
                    RowError(
                        None, "", f"Nothing was imported: the data changed meanwhile ({error})."
                    )
                )
    return plan
