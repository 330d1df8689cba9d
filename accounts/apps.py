from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Sign-in receivers: session clocks and the audit log (accounts.auth).
        from accounts import auth  # noqa: F401
