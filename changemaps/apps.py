from django.apps import AppConfig


class ChangemapsConfig(AppConfig):
    name = "changemaps"
    verbose_name = "Change maps"
