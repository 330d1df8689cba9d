from django import forms

from accounts.models import Account, AccountLogEntry, User


class MonthsField(forms.TypedMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=Account.MONTHS,
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            required=False,
            **kwargs,
        )


class AccountForm(forms.ModelForm):
    seasonal_peak_months = MonthsField(label="Seasonal peak months")
    team = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Colleagues who work on this account; they can see it and add to its log.",
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "tier",
            "status",
            "segment",
            "territory",
            "industry",
            "parent",
            "owner",
            "seasonal_peak_months",
            "international_presence",
            "markets_entering",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    field_order = [*Meta.fields[:8], "team"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True)
        # Only accounts the editor may see: the choices would otherwise list every account.
        parents = Account.objects.visible_to(user).order_by("name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
            self.fields["team"].initial = list(self.instance.team.all())
        self.fields["parent"].queryset = parents

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Account.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another account already has this name.")
        return name


class AccountLogEntryForm(forms.ModelForm):
    mentioned_contacts = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="People involved",
        help_text="The entry appears in their relationship story.",
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentioned_contacts"].queryset = account.contacts.order_by("name")

    class Meta:
        model = AccountLogEntry
        fields = ["kind", "occurred_on", "title", "body"]
        widgets = {
            "occurred_on": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "body": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"occurred_on": "Date", "body": "Details"}


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="What is it for?",
        help_text="e.g. “CRM sync”. The token acts as you and sees what you see.",
    )
