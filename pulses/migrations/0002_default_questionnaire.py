from django.db import migrations


def create_default(apps, schema_editor):
    # Uses the current service on purpose: the shipped questionnaire is data, defined once.
    from pulses.services.questionnaires import DEFAULT_QUESTIONNAIRE_NAME, DEFAULT_QUESTIONS

    Questionnaire = apps.get_model("pulses", "Questionnaire")
    QuestionnaireVersion = apps.get_model("pulses", "QuestionnaireVersion")
    Question = apps.get_model("pulses", "Question")
    questionnaire, created = Questionnaire.objects.get_or_create(
        name=DEFAULT_QUESTIONNAIRE_NAME,
        defaults={
            "is_default": True,
            "description": "Two minutes: one score, three ratings, what goes well and what to change.",
        },
    )
    if not created:
        return
    version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1)
    for position, spec in enumerate(DEFAULT_QUESTIONS, start=1):
        Question.objects.create(
            version=version,
            position=position,
            key=spec["key"],
            kind=str(spec["kind"]),
            purpose=str(spec.get("purpose", "other")),
            required=spec.get("required", True),
            prompt=spec["prompt"],
            choices=spec.get("choices", []),
        )


class Migration(migrations.Migration):
    dependencies = [("pulses", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
