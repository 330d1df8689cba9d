from django import forms

from accounts.models import User
from contacts.models import BuyingRole, Contact, InfluenceLink, InternalRelationship


class ContactForm(forms.ModelForm):
    buying_roles = forms.ModelMultipleChoiceField(
        queryset=BuyingRole.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Buying roles",
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "email",
            "phone",
            "job_title",
            "department",
            "seniority",
            "location",
            "time_zone",
            "preferred_language",
            "influence",
            "budget_amount",
            "budget_currency",
            "reports_to",
            "owner",
            "status",
            "preferred_channel",
            "contact_frequency",
            "pulse_consent",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "influence": forms.Select(
                choices=[
                    ("", "Unknown"),
                    *[
                        (i, f"{i} – {label}")
                        for i, label in enumerate(
                            ["little", "some", "moderate", "strong", "decisive"], start=1
                        )
                    ],
                ]
            ),
        }

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.account = account
        colleagues = account.contacts.exclude(status=Contact.Status.LEFT).order_by("name")
        if self.instance.pk:
            colleagues = colleagues.exclude(pk=self.instance.pk)
            self.fields["buying_roles"].initial = list(self.instance.buying_roles.all())
        if self.instance.erased_at:
            for name in Contact.LOCKED_AFTER_ERASURE:
                # Disabled: the browser cannot send them and Django keeps the stored value.
                self.fields[name].disabled = True
                self.fields[name].help_text = "Erased at the person's request."
        self.fields["reports_to"].queryset = colleagues
        self.fields["owner"].queryset = User.objects.filter(is_active=True)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = Contact.objects.filter(account=self.instance.account, email__iexact=email)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Someone in this account already has this email address.")
        return email

    def contact_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "buying_roles"}


class LeaveForm(forms.Form):
    left_on = forms.DateField(
        label="Left on", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    note = forms.CharField(max_length=300, required=False, label="Note (where did they go?)")


class RelationshipForm(forms.ModelForm):
    class Meta:
        model = InternalRelationship
        fields = ["user", "strength", "notes"]
        labels = {"user": "Colleague", "strength": "Strength (1–5)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True)


class InfluenceLinkForm(forms.ModelForm):
    class Meta:
        model = InfluenceLink
        fields = ["kind", "target", "strength"]
        labels = {"target": "Person", "strength": "Strength (1–5)"}

    def __init__(self, *args, source, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.source = source
        self.fields["target"].queryset = source.account.contacts.exclude(pk=source.pk).order_by(
            "name"
        )


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(
        queryset=User.objects.all(), label="From (leaving or moving)"
    )
    to_user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), label="To")
    note = forms.CharField(max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if data.get("from_user") and data.get("from_user") == data.get("to_user"):
            raise forms.ValidationError("Choose two different people.")
        return data


class ContactImportForm(forms.Form):
    """The spreadsheet uploaded on the import page; its content is checked by contacts.importing."""

    max_bytes = 5 * 1024 * 1024
    file = forms.FileField(
        label="Spreadsheet",
        help_text="A .csv (UTF-8, comma or semicolon) or an Excel .xlsx file, at most 5 MB.",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                f"This file is {upload.size / 1024 / 1024:.1f} MB; the limit is 5 MB. "
                "Split it into smaller files."
            )
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or an Excel .xlsx file.")
        return upload
