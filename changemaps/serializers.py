"""API representations of change-map snapshots (read only: they are derived data)."""

from rest_framework import serializers

from changemaps.models import ContactSnapshot, GroupSnapshot


class ContactSnapshotSerializer(serializers.ModelSerializer):
    """One person's change-map category as of one wave, with the reason the rules gave."""

    class Meta:
        model = ContactSnapshot
        fields = [
            "wave",
            "contact",
            "account",
            "category",
            "previous_category",
            "reason",
            "last",
            "prev",
            "delta",
            "n",
            "silent_streak",
            "key_person",
        ]
        read_only_fields = fields


class AccountSnapshotSerializer(serializers.ModelSerializer):
    """One account's change-map aggregates as of one wave."""

    account = serializers.IntegerField(source="key", read_only=True)
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    previous_counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = GroupSnapshot
        fields = [
            "wave",
            "account",
            "label",
            "people",
            "counts",
            "previous_counts",
            "weighted_score",
            "participation",
            "answered",
            "invited",
            "pockets",
            "supports",
            "call_list",
        ]
        read_only_fields = fields
