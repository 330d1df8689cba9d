"""Forms of the reports app: the person's quote approval, and asking for a report."""

from django import forms

from accounts.models import Account, Segment, Territory
from pulses.forms import AnswerTextField
from pulses.models import MAX_ANSWER_LENGTH
from reports.models import Quote, ReportJob


class QuoteApprovalForm(forms.Form):
    """The wording the person approves and how they are credited.

    Each credit choice is labelled with the exact line a report would print, so the person
    sees what they agree to rather than a category name.
    """

    # Line breaks count as one character, as the browser's maxlength counts them.
    text = AnswerTextField(
        label="The wording",
        max_length=MAX_ANSWER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "The quote cannot be empty. To not be quoted, withdraw it instead.",
            "max_length": f"Please keep the quote to {MAX_ANSWER_LENGTH:,} characters or fewer.",
        },
    )
    credit = forms.ChoiceField(
        label="How should we credit you?",
        widget=forms.RadioSelect(attrs={"class": "choice-input"}),
        error_messages={"required": "Choose how you would like to be credited."},
    )

    def __init__(self, data=None, *, quote: Quote, **kwargs):
        initial = {"text": quote.text, "credit": quote.credit}
        super().__init__(data, initial=initial, **kwargs)
        self.fields["credit"].choices = [
            (value, f"{label}: “{Quote(contact=quote.contact, credit=value).credit_line}”")
            for value, label in Quote.Credit.choices
        ]


class ReportRequestForm(forms.Form):
    """What a report is about and who it is for. Accounts, segments and territories offered are
    those the user can see; an account report needs an account, a portfolio report may be
    narrowed to one segment or one territory."""

    kind = forms.ChoiceField(
        label="Report", choices=ReportJob.Kind.choices, widget=forms.RadioSelect
    )
    account = forms.ModelChoiceField(queryset=Account.objects.none(), required=False)
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(), required=False, empty_label="Every segment"
    )
    territory = forms.ModelChoiceField(
        queryset=Territory.objects.none(), required=False, empty_label="Every territory"
    )
    audience = forms.ChoiceField(
        label="Version",
        choices=ReportJob.Audience.choices,
        initial=ReportJob.Audience.CLIENT,
        widget=forms.RadioSelect,
    )
    prepared_for = forms.CharField(
        label="Prepared for",
        max_length=200,
        required=False,
        help_text="Printed on the cover, e.g. the client's decision makers.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        visible = Account.objects.visible_to(user)
        self.fields["account"].queryset = visible.order_by("name")
        self.fields["segment"].queryset = Segment.objects.filter(
            pk__in=visible.values("segment")
        ).order_by("name")
        self.fields["territory"].queryset = Territory.objects.filter(
            pk__in=visible.values("territory")
        ).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == ReportJob.Kind.ACCOUNT and not cleaned.get("account"):
            self.add_error("account", "Choose the account the report is about.")
        if cleaned.get("segment") and cleaned.get("territory"):
            self.add_error("territory", "Choose a segment or a territory, not both.")
        return cleaned
