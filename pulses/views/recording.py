"""Staff-recorded responses: what a contact told us in an interview, a call or a workshop.

One page in two steps: choose the wave, how the answers were given and when (a GET, so the
choice is bookmarkable and the back button works), then answer that wave's questions and save
(a POST). Answers already recorded for the wave are shown for editing.
"""

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from contacts.models import Contact
from contacts.selectors import contact_get_for_user
from pulses.forms import SurveyForm
from pulses.models import DEFAULT_LANGUAGE, Response, Wave
from pulses.services.responses import response_record, response_saved_answers
from pulses.services.waves import waves_recordable_for

SOURCES = [
    (Response.Source.INTERVIEW, Response.Source.INTERVIEW.label),
    (Response.Source.CALL, Response.Source.CALL.label),
    (Response.Source.WORKSHOP, Response.Source.WORKSHOP.label),
]


class WaveChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, wave):
        state = "open" if wave.status == Wave.Status.OPEN else "closed"
        return f"{wave.name} ({state})"


class RecordingForm(forms.Form):
    """Which wave, how and when: the frame around the questionnaire's answers."""

    wave = WaveChoiceField(queryset=Wave.objects.none(), empty_label=None)
    source = forms.ChoiceField(
        label="How they told you", choices=SOURCES, initial=Response.Source.INTERVIEW
    )
    answered_on = forms.DateField(
        label="When",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
        help_text="Today unless you say otherwise.",
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.fields["wave"].queryset = waves_recordable_for(contact=contact)

    def clean_answered_on(self):
        answered_on = self.cleaned_data["answered_on"] or timezone.localdate()
        if answered_on > timezone.localdate():
            raise ValidationError("That date is in the future.")
        return answered_on

    def clean(self):
        cleaned = super().clean()
        wave = cleaned.get("wave")
        self.response = (
            Response.objects.filter(wave=wave, contact=self.contact).first() if wave else None
        )
        if self.response is not None and self.response.source == Response.Source.SURVEY:
            self.add_error(
                "wave",
                f"{self.contact.name} answered this pulse themselves; their own answers stand.",
            )
        return cleaned

    def submitted_at(self) -> datetime | None:
        """When the conversation took place: kept on an edit when the date did not change."""
        answered_on = self.cleaned_data["answered_on"]
        if self.response and timezone.localdate(self.response.submitted_at) == answered_on:
            return None
        if answered_on == timezone.localdate():
            return timezone.now()
        return timezone.make_aware(datetime.combine(answered_on, time(12)))


def _survey_form(data, *, wave: Wave, response: Response | None) -> SurveyForm:
    form = SurveyForm(
        data,
        version=wave.questionnaire_version,
        language=DEFAULT_LANGUAGE,
        initial_answers=response_saved_answers(response=response),
        prefix="answers",
    )
    # An interview may well leave a question out; the service still wants one answer at least.
    for field in form.fields.values():
        field.required = False
    return form


def _show_errors(error: ValidationError, survey: SurveyForm, recording: RecordingForm) -> None:
    if not hasattr(error, "error_dict"):
        survey.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        if key in survey.fields:
            survey.add_error(key, errors)
        elif key in recording.fields:
            recording.add_error(key, errors)
        else:
            survey.add_error(None, errors)


@login_required
def record_response(request, pk):
    contact = contact_get_for_user(user=request.user, pk=pk)
    if not contact.account.can_contribute(request.user):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET or None
    recording = RecordingForm(data, contact=contact)
    survey = None
    if recording.is_valid():
        wave = recording.cleaned_data["wave"]
        survey = _survey_form(
            request.POST if request.method == "POST" else None,
            wave=wave,
            response=recording.response,
        )
        if request.method == "POST" and survey.is_valid():
            try:
                response_record(
                    wave=wave,
                    contact=contact,
                    recorded_by=request.user,
                    source=recording.cleaned_data["source"],
                    answers=survey.answers(),
                    submitted_at=recording.submitted_at(),
                )
            except ValidationError as error:
                _show_errors(error, survey, recording)
            else:
                source = dict(SOURCES)[recording.cleaned_data["source"]].lower()
                messages.success(
                    request, f"{contact.name}’s answers from the {source} are saved in {wave}."
                )
                return redirect(contact)
    context = {
        "contact": contact,
        "account": contact.account,
        "recording": recording,
        "survey": survey,
        "response": recording.response if survey else None,
        "has_waves": recording.fields["wave"].queryset.exists(),
    }
    return render(request, "pulses/record_response.html", context)
