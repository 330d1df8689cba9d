from rest_framework import serializers


class StrictFieldsMixin:
    # Refuses fields the serializer does not know: a typo must not be silently dropped.
    # Read-only fields are known, so a client may send back what it read.

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = serializers.ValidationError(
            {name: ["This field is not known."] for name in unknown}, code="unknown_field"
        ).detail
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict):
                error.detail.update(errors)
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class UserRefSerializer(serializers.Serializer):
    """Someone on our side, as other resources show them."""

    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
