from django import forms
from django.db.models import Q

from accounts.models import User
from actions.models import (
    AccountPlan,
    Acknowledgement,
    Action,
    AdvocacyCandidate,
    FeedbackReview,
    PlanObjective,
)
from actions.selectors import waves_reaching
from pulses.models import Response


class ReplyForm(forms.Form):
    """The personal reply, prefilled with the person's own words quoted."""

    subject = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Message",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 16}),
        strip=False,
    )


class InPersonForm(forms.Form):
    """Acknowledged in a call or a meeting: how, and what was said."""

    method = forms.ChoiceField(
        label="How",
        choices=[
            (Acknowledgement.Method.CALL, "Call"),
            (Acknowledgement.Method.MEETING, "Meeting"),
        ],
        widget=forms.RadioSelect,
        initial=Acknowledgement.Method.CALL,
    )
    note = forms.CharField(
        label="What you talked about",
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ActionForm(forms.ModelForm):
    """Create or change an action; sources only on creation, people and waves of its account."""

    note = forms.CharField(
        label="Add to the log",
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What happened, what was decided.",
    )

    class Meta:
        model = Action
        fields = [
            "title",
            "description",
            "owner",
            "due_on",
            "priority",
            "status",
            "is_focus",
            "you_said_we_did",
            "source_contact",
            "source_wave",
            "source_response",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "due_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "you_said_we_did": forms.Textarea(attrs={"rows": 2}),
            "source_response": forms.HiddenInput,
        }
        labels = {"is_focus": "Make this the one thing to fix this pulse cycle"}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            Q(pk=account.owner_id) | Q(account_memberships__account=account), is_active=True
        ).distinct()
        self.fields["source_contact"].queryset = account.contacts.order_by("name")
        self.fields["source_wave"].queryset = waves_reaching(account=account).order_by("-opens_on")
        self.fields["source_response"].queryset = Response.objects.filter(contact__account=account)
        if self.instance.pk:
            for name in ("source_contact", "source_wave", "source_response"):
                del self.fields[name]
        else:
            del self.fields["note"]

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "note"}


class ReviewForm(forms.ModelForm):
    """The team's review of one response."""

    class Meta:
        model = FeedbackReview
        fields = ["fairness", "nature", "not_mentioned", "notes"]
        widgets = {
            "fairness": forms.RadioSelect,
            "nature": forms.RadioSelect,
            "not_mentioned": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fairness"].choices = FeedbackReview.Fairness.choices
        self.fields["nature"].choices = FeedbackReview.Nature.choices

    def review_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class WaveReviewForm(ReviewForm):
    """The team's review of a wave as a whole, for one account."""

    wave = forms.ModelChoiceField(queryset=None, label="Pulse", empty_label=None)

    class Meta(ReviewForm.Meta):
        fields = ["wave", *ReviewForm.Meta.fields]

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wave"].queryset = waves_reaching(account=account).order_by("-opens_on")

    def review_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in ReviewForm.Meta.fields}


class CandidateForm(forms.Form):
    """Mark positive words as a referral or case-study candidate."""

    kind = forms.ChoiceField(
        label="Candidate for", choices=AdvocacyCandidate.Kind.choices, widget=forms.RadioSelect
    )
    quote = forms.CharField(
        label="Their words", max_length=5_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConsentForm(forms.Form):
    consent = forms.ChoiceField(choices=AdvocacyCandidate.Consent.choices)
    consent_note = forms.CharField(label="How they told you", max_length=500, required=False)


class PlanForm(forms.ModelForm):
    class Meta:
        model = AccountPlan
        fields = ["title", "description", "horizon_years", "starts_on"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = PlanObjective
        fields = ["title", "owner", "target_date", "progress"]
        widgets = {"target_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = User.objects.filter(
            Q(pk=account.owner_id) | Q(account_memberships__account=account), is_active=True
        ).distinct()
        # The page shows this form once per plan: read the team once.
        owner.widget.choices = list(owner.choices)


class ProgressForm(forms.Form):
    progress = forms.IntegerField(min_value=0, max_value=100)
    notes = forms.CharField(max_length=500, required=False)
