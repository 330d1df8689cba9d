from django.db import migrations

ROLES = [
    ("decision_maker", "Decision maker"),
    ("budget_holder", "Budget holder"),
    ("champion", "Champion"),
    ("influencer", "Influencer"),
    ("gatekeeper", "Gatekeeper"),
    ("detractor", "Detractor"),
    ("user", "User"),
    ("technical_evaluator", "Technical evaluator"),
]


def create_roles(apps, schema_editor):
    BuyingRole = apps.get_model("contacts", "BuyingRole")
    for position, (code, label) in enumerate(ROLES):
        BuyingRole.objects.update_or_create(code=code, defaults={"label": label, "position": position})


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
