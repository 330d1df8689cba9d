import django_filters
from django.db.models import Q

from accounts.models import Account, Segment, Territory, User


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    tier = django_filters.ChoiceFilter(choices=Account.Tier.choices, empty_label="Any tier")
    segment = django_filters.ModelChoiceFilter(
        queryset=Segment.objects.all(), empty_label="Any segment"
    )
    territory = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.all(), empty_label="Any territory"
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(owned_accounts__isnull=False).distinct(),
        empty_label="Any owner",
    )
    status = django_filters.ChoiceFilter(choices=Account.Status.choices, empty_label="Any status")
    sort = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("tier", "tier"),
            ("status", "status"),
            ("owner__full_name", "owner"),
            ("territory__name", "territory"),
            ("updated_at", "updated"),
        ),
        field_labels={"updated_at": "Last updated"},
        empty_label="Sort by name",
    )

    class Meta:
        model = Account
        fields = ["q", "tier", "segment", "territory", "owner", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(industry__icontains=value))
