"""Actions on feedback: create, change, log, and the one focus per account and pulse cycle.

Every change to an action writes a line to its log (who, when, what moved). The focus rule —
at most one focus action per account and cycle — is checked here first, to say clearly which
action holds the focus, and enforced by a partial unique constraint, so that two people
marking two actions at the same moment still leave one focus.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Account, User
from actions.models import BEFORE_THE_FIRST_PULSE, Action, ActionUpdate
from actions.selectors import pulse_cycle_start
from core.services.webhooks import on_commit_publish

EDITABLE = (
    "title",
    "description",
    "owner",
    "due_on",
    "status",
    "priority",
    "is_focus",
    "you_said_we_did",
)
SOURCES = ("source_response", "source_contact", "source_wave")


def focus_taken_message(*, holder: Action) -> str:
    return (
        f"{holder.account.name} already has its one thing to fix for this pulse cycle: "
        f"“{holder.title}”. Finish it or take the focus off it first."
    )


def _cycle_label(cycle_start) -> str:
    if cycle_start == BEFORE_THE_FIRST_PULSE:
        return "before the first pulse"
    return f"since the pulse of {date_format(cycle_start, 'j F Y')}"


def _check_focus(action: Action) -> None:
    if not action.is_focus:
        return
    holder = (
        Action.objects.filter(
            account_id=action.account_id, cycle_start=action.cycle_start, is_focus=True
        )
        .exclude(pk=action.pk)
        .select_related("account")
        .first()
    )
    if holder is not None:
        raise ValidationError({"is_focus": focus_taken_message(holder=holder)})


def _check_statement(action: Action) -> None:
    if action.you_said_we_did.strip() and action.status != Action.Status.DONE:
        raise ValidationError(
            {"you_said_we_did": "Write “you said, we did” once the action is done."}
        )


def _save(action: Action) -> None:
    """Save, turning a lost race for the focus into the same clear message."""
    try:
        with transaction.atomic():
            action.save()
    except IntegrityError as error:
        holder = Action.objects.filter(
            account_id=action.account_id, cycle_start=action.cycle_start, is_focus=True
        ).first()
        if action.is_focus and holder is not None:
            raise ValidationError({"is_focus": focus_taken_message(holder=holder)}) from error
        raise


@transaction.atomic
def action_create(*, account: Account, by: User, fields: dict) -> Action:
    """Create an action on `account` (fields: EDITABLE and SOURCES), logged as created.

    Its cycle is the account's current pulse cycle. Created "done", it publishes the
    `action.completed` webhook event once committed. A focus action is refused with a
    ValidationError on `is_focus` naming the action that holds the focus of this cycle. The
    sources must belong to the account (ValidationError). The caller checks that `by` may.
    """
    unknown = set(fields) - set(EDITABLE) - set(SOURCES)
    if unknown:
        raise ValueError(f"Not an action field: {sorted(unknown)}")
    action = Action(account=account, created_by=by, cycle_start=pulse_cycle_start(account=account))
    status = fields.get("status", Action.Status.OPEN)
    for name, value in fields.items():
        if name != "status":
            setattr(action, name, value)
    action.set_status(status)
    if status == Action.Status.DONE:
        action.you_said_we_did = fields.get("you_said_we_did", "")
    _check_sources(action)
    _check_statement(action)
    _check_focus(action)
    _save(action)
    note = "Created" + (
        f" as the focus {_cycle_label(action.cycle_start)}" if action.is_focus else ""
    )
    ActionUpdate.objects.create(action=action, author=by, text=note, status=action.status)
    if action.status == Action.Status.DONE:
        _publish_completed(action)
    return action


def _check_sources(action: Action) -> None:
    errors = {}
    if action.source_contact_id and action.source_contact.account_id != action.account_id:
        errors["source_contact"] = "That person is not at this account."
    if action.source_response_id:
        if action.source_response.contact.account_id != action.account_id:
            errors["source_response"] = "That response is not from this account."
        elif not action.source_contact_id:
            action.source_contact = action.source_response.contact
        action.source_wave = action.source_wave or action.source_response.wave
    if errors:
        raise ValidationError(errors)


def _describe(name: str, old, new) -> str:
    labels = {
        "title": "Title",
        "description": "Description",
        "owner": "Owner",
        "due_on": "Due",
        "priority": "Priority",
    }
    if name == "priority":
        old, new = Action.Priority(old).label, Action.Priority(new).label
    if name == "due_on":
        old = date_format(old, "j M Y") if old else "none"
        new = date_format(new, "j M Y") if new else "none"
    if name == "description":
        return "Description changed"
    return f"{labels[name]}: {old or 'nobody'} → {new or 'nobody'}"


@transaction.atomic
def action_update(*, action: Action, by: User, fields: dict, note: str = "") -> Action:
    """Change an action (fields: EDITABLE) and log each change, with `note` when given.

    Moving it to "done" publishes the `action.completed` webhook event once committed.
    Marking it the focus moves it into the account's current cycle, refused with a
    ValidationError while another action holds that cycle's focus. Moving it away from
    "done" clears `done_at` and its "you said, we did", which may only be written once it is
    done. Nothing changed and no note: nothing is logged.
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not an action field: {sorted(unknown)}")
    before = Action.objects.select_for_update().get(pk=action.pk)
    lines = []
    completed = fields.get("status") == Action.Status.DONE and before.status != Action.Status.DONE
    for name in ("title", "description", "owner", "due_on", "priority"):
        if name in fields and fields[name] != getattr(before, name):
            lines.append(_describe(name, getattr(before, name), fields[name]))
            setattr(action, name, fields[name])
    if "status" in fields and fields["status"] != before.status:
        action.set_status(fields["status"])
        lines.append(f"Status: {before.get_status_display()} → {action.get_status_display()}")
    if "is_focus" in fields and fields["is_focus"] != before.is_focus:
        action.is_focus = fields["is_focus"]
        if action.is_focus:
            action.cycle_start = pulse_cycle_start(account=action.account)
            lines.append(f"Made the focus {_cycle_label(action.cycle_start)}")
        else:
            lines.append("No longer the focus")
    if "you_said_we_did" in fields and fields["you_said_we_did"].strip() != before.you_said_we_did:
        action.you_said_we_did = fields["you_said_we_did"].strip()
        if action.you_said_we_did:
            lines.append(f"You said, we did: {action.you_said_we_did}")
    _check_statement(action)
    _check_focus(action)
    if not lines and not note.strip():
        return action
    _save(action)
    text = "\n".join([*lines, note.strip()] if note.strip() else lines)
    ActionUpdate.objects.create(
        action=action,
        author=by,
        text=text,
        status=action.status if "status" in fields and fields["status"] != before.status else "",
        at=timezone.now(),
    )
    if completed:
        _publish_completed(action)
    return action


def action_delete(*, action: Action) -> None:
    """Delete an action and its log. The caller checks that the user may."""
    action.delete()


def _publish_completed(action: Action) -> None:
    action_id = action.pk

    def data():
        from actions.selectors import action_data  # selectors reach the API serializers

        return action_data(action_id=action_id)

    on_commit_publish("action.completed", data)
