"""The pulse questionnaire as a form: one field per question, worded in the respondent's language.

Contacts fill it in on their personal survey page; staff use the same form to record an
interview or a call, so both paths obey the same rules (ranges, required answers, length cap).
"""

from django import forms

from pulses.models import DEFAULT_LANGUAGE, MAX_ANSWER_LENGTH, Question, QuestionnaireVersion

# The survey's own words, in the languages the shipped questionnaire speaks; anything missing
# falls back to English, as question wording does. Placeholders ({name}, {account}, …) are
# filled with format_html, which escapes them.
_LIMIT_EN = f"{MAX_ANSWER_LENGTH:,}"  # 5,000
_LIMIT_DE = _LIMIT_EN.replace(",", ".")  # 5.000
_LIMIT_FR = _LIMIT_EN.replace(",", "\u202f")  # 5 000 (narrow no-break space)

SURVEY_WORDING = {
    "en": {
        # The form
        "score_low": "Very poor",
        "score_high": "Excellent",
        "rating_low": "Poor",
        "rating_high": "Excellent",
        "required": "Please answer this question.",
        "choose_scale": "Please choose a number from %(low)s to %(high)s.",
        "choose_option": "Please choose one of the options.",
        "too_long": f"Please keep this to {_LIMIT_EN} characters or fewer (it has %(show_value)s).",
        "optional": "optional",
        # The pages
        "page_title": "Your feedback",
        "hello": "Hello {name},",
        "intro_signer": "{signer} would like to hear how working with us is going for {account}. It takes about two minutes.",
        "intro_team": "We would like to hear how working with us is going for {account}. It takes about two minutes.",
        "mirror_intro": "In our {month} pulse you told us:",
        "mirror_after": "Let us know below how things look now.",
        "since_last_pulse": "Since your last pulse we have:",
        "skip": "Skip to content",
        "privacy_plain": "This link is personal to you. If you forward it, whoever opens it can change your answers.",
        "privacy": "This link is personal to you. If you forward it, whoever opens it can see your previous improvement suggestion and change your answers.",
        "not_anonymous": "Your answers are not anonymous: they go to the people who look after {account} with us.",
        "open_until": "Open until {closes}.",
        "answered_on": "You answered on {date}. You can change your answers until {closes}.",
        "errors_title": "Some answers need another look:",
        "submit": "Send my answers",
        "submit_edit": "Save my changes",
        "thanks_title": "Thank you, {name}",
        "thanks_signer": "Your answers are in. {signer} will read them and come back to you on anything that needs it.",
        "thanks_team": "Your answers are in. We will read them and come back to you on anything that needs it.",
        "thanks_edit": "Want to change something? You can use the same link until {closes}.",
        "change": "Change my answers",
        "closed_title": "This pulse has closed — thank you",
        "closed_body": "This pulse closed on {date}.",
        "closed_answered": "We have your answers. Thank you for taking the time.",
        "closed_signer": "If there is something you would like to tell us, {signer} is always happy to hear from you.",
        "closed_team": "If there is something you would like to tell us, simply reply to our email.",
        "unsubscribe_prompt": "Don’t want these pulses?",
        "unsubscribe_link": "Unsubscribe",
        "unsubscribe_title": "Unsubscribe from pulses",
        "unsubscribe_body": "You will no longer receive feedback pulses from us. Answers you have already given are kept.",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed_signer": "We won’t send you any more pulses. If you change your mind, let {signer} know.",
        "unsubscribed_team": "We won’t send you any more pulses. If you change your mind, just let us know.",
    },
    "de": {
        "score_low": "Sehr schlecht",
        "score_high": "Ausgezeichnet",
        "rating_low": "Schlecht",
        "rating_high": "Ausgezeichnet",
        "required": "Bitte beantworten Sie diese Frage.",
        "choose_scale": "Bitte wählen Sie eine Zahl von %(low)s bis %(high)s.",
        "choose_option": "Bitte wählen Sie eine der Antworten.",
        "too_long": f"Bitte höchstens {_LIMIT_DE} Zeichen (derzeit %(show_value)s).",
        "optional": "optional",
        "page_title": "Ihr Feedback",
        "hello": "Hallo {name},",
        "intro_signer": "{signer} möchte gern wissen, wie die Zusammenarbeit mit uns für {account} läuft. Es dauert etwa zwei Minuten.",
        "intro_team": "Wir möchten gern wissen, wie die Zusammenarbeit mit uns für {account} läuft. Es dauert etwa zwei Minuten.",
        "mirror_intro": "In unserer Umfrage vom {month} haben Sie uns gesagt:",
        "mirror_after": "Sagen Sie uns unten, wie es heute aussieht.",
        "since_last_pulse": "Seit Ihrer letzten Umfrage haben wir:",
        "skip": "Zum Inhalt springen",
        "privacy_plain": "Dieser Link ist persönlich. Wenn Sie ihn weiterleiten, kann jeder, der ihn öffnet, Ihre Antworten ändern.",
        "privacy": "Dieser Link ist persönlich. Wenn Sie ihn weiterleiten, kann jeder, der ihn öffnet, Ihren früheren Verbesserungsvorschlag sehen und Ihre Antworten ändern.",
        "not_anonymous": "Ihre Antworten sind nicht anonym: Sie gehen an die Menschen, die {account} bei uns betreuen.",
        "open_until": "Offen bis {closes}.",
        "answered_on": "Sie haben am {date} geantwortet. Bis {closes} können Sie Ihre Antworten noch ändern.",
        "errors_title": "Bitte prüfen Sie diese Antworten noch einmal:",
        "submit": "Antworten senden",
        "submit_edit": "Änderungen speichern",
        "thanks_title": "Vielen Dank, {name}",
        "thanks_signer": "Ihre Antworten sind angekommen. {signer} liest sie und meldet sich bei Ihnen, wo es nötig ist.",
        "thanks_team": "Ihre Antworten sind angekommen. Wir lesen sie und melden uns bei Ihnen, wo es nötig ist.",
        "thanks_edit": "Möchten Sie etwas ändern? Der Link funktioniert bis {closes}.",
        "change": "Antworten ändern",
        "closed_title": "Diese Umfrage ist beendet — vielen Dank",
        "closed_body": "Diese Umfrage wurde am {date} beendet.",
        "closed_answered": "Ihre Antworten liegen uns vor. Danke, dass Sie sich die Zeit genommen haben.",
        "closed_signer": "Wenn Sie uns etwas mitteilen möchten, freut sich {signer} jederzeit über Ihre Nachricht.",
        "closed_team": "Wenn Sie uns etwas mitteilen möchten, antworten Sie einfach auf unsere E-Mail.",
        "unsubscribe_prompt": "Sie möchten diese Umfragen nicht mehr erhalten?",
        "unsubscribe_link": "Abmelden",
        "unsubscribe_title": "Von Umfragen abmelden",
        "unsubscribe_body": "Sie erhalten dann keine Feedback-Umfragen mehr von uns. Ihre bisherigen Antworten bleiben erhalten.",
        "unsubscribe_button": "Abmelden",
        "unsubscribed_title": "Sie sind abgemeldet",
        "unsubscribed_signer": "Wir senden Ihnen keine Umfragen mehr. Wenn Sie es sich anders überlegen, sagen Sie {signer} Bescheid.",
        "unsubscribed_team": "Wir senden Ihnen keine Umfragen mehr. Wenn Sie es sich anders überlegen, sagen Sie uns einfach Bescheid.",
    },
    "fr": {
        "score_low": "Très mauvaise",
        "score_high": "Excellente",
        "rating_low": "Mauvais",
        "rating_high": "Excellent",
        "required": "Merci de répondre à cette question.",
        "choose_scale": "Merci de choisir un nombre de %(low)s à %(high)s.",
        "choose_option": "Merci de choisir une des réponses.",
        "too_long": f"Merci de ne pas dépasser {_LIMIT_FR} caractères (actuellement %(show_value)s).",
        "optional": "facultatif",
        "page_title": "Votre avis",
        "hello": "Bonjour {name},",
        "intro_signer": "{signer} aimerait savoir comment se passe notre collaboration avec {account}. Cela prend environ deux minutes.",
        "intro_team": "Nous aimerions savoir comment se passe notre collaboration avec {account}. Cela prend environ deux minutes.",
        "mirror_intro": "Lors de notre enquête de {month}, vous nous avez dit :",
        "mirror_after": "Dites-nous ci-dessous où en sont les choses aujourd’hui.",
        "since_last_pulse": "Depuis votre dernière enquête, nous avons :",
        "skip": "Aller au contenu",
        "privacy_plain": "Ce lien vous est personnel. Si vous le transférez, toute personne qui l’ouvre peut modifier vos réponses.",
        "privacy": "Ce lien vous est personnel. Si vous le transférez, toute personne qui l’ouvre peut voir votre précédente suggestion d’amélioration et modifier vos réponses.",
        "not_anonymous": "Vos réponses ne sont pas anonymes : elles sont transmises aux personnes qui suivent {account} chez nous.",
        "open_until": "Ouvert jusqu’au {closes}.",
        "answered_on": "Vous avez répondu le {date}. Vous pouvez modifier vos réponses jusqu’au {closes}.",
        "errors_title": "Certaines réponses sont à revoir :",
        "submit": "Envoyer mes réponses",
        "submit_edit": "Enregistrer mes modifications",
        "thanks_title": "Merci, {name}",
        "thanks_signer": "Vos réponses sont bien arrivées. {signer} va les lire et reviendra vers vous si nécessaire.",
        "thanks_team": "Vos réponses sont bien arrivées. Nous allons les lire et reviendrons vers vous si nécessaire.",
        "thanks_edit": "Envie de changer quelque chose ? Le même lien fonctionne jusqu’au {closes}.",
        "change": "Modifier mes réponses",
        "closed_title": "Cette enquête est terminée — merci",
        "closed_body": "Cette enquête s’est terminée le {date}.",
        "closed_answered": "Nous avons bien vos réponses. Merci d’avoir pris le temps.",
        "closed_signer": "Si vous souhaitez nous dire quelque chose, {signer} sera toujours ravi(e) de vous lire.",
        "closed_team": "Si vous souhaitez nous dire quelque chose, répondez simplement à notre e-mail.",
        "unsubscribe_prompt": "Vous ne souhaitez plus recevoir ces enquêtes ?",
        "unsubscribe_link": "Se désabonner",
        "unsubscribe_title": "Se désabonner des enquêtes",
        "unsubscribe_body": "Vous ne recevrez plus nos enquêtes de satisfaction. Les réponses déjà données sont conservées.",
        "unsubscribe_button": "Se désabonner",
        "unsubscribed_title": "Vous êtes désabonné(e)",
        "unsubscribed_signer": "Nous ne vous enverrons plus d’enquêtes. Si vous changez d’avis, prévenez {signer}.",
        "unsubscribed_team": "Nous ne vous enverrons plus d’enquêtes. Si vous changez d’avis, dites-le-nous simplement.",
    },
}


def survey_wording(language: str) -> dict[str, str]:
    """The survey's own words in `language`, English where a translation is missing."""
    return SURVEY_WORDING[DEFAULT_LANGUAGE] | SURVEY_WORDING.get(language, {})


class AnswerTextField(forms.CharField):
    """Open text. Line breaks count as one character, as they do in the browser's maxlength."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("\r\n", "\n")
        return super().to_python(value)


class SurveyForm(forms.Form):
    """The questions of one questionnaire version. `answers()` gives key → int | str.

    Each field carries `question` (its Question) and `kind`; scale fields carry
    `scale_low`/`scale_high` (the words at both ends) so templates can label the scale.
    """

    def __init__(
        self,
        data=None,
        *,
        version: QuestionnaireVersion,
        language: str = DEFAULT_LANGUAGE,
        initial_answers: dict[str, object] | None = None,
        **kwargs,
    ):
        super().__init__(data, initial=initial_answers or {}, **kwargs)
        self.version = version
        self.language = language
        self.wording = survey_wording(language)
        self.questions = list(version.questions.all())
        for question in self.questions:
            field = self._field_for(question)
            field.question = question
            field.kind = question.kind
            self.fields[question.key] = field

    def _field_for(self, question: Question) -> forms.Field:
        words = self.wording
        label = question.text(self.language)
        required_message = {"required": words["required"]}
        if question.kind in Question.RANGES:
            low, high = Question.RANGES[question.kind]
            field = forms.TypedChoiceField(
                label=label,
                required=question.required,
                choices=[(n, str(n)) for n in range(low, high + 1)],
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "scale-input"}),
                error_messages=required_message
                | {"invalid_choice": words["choose_scale"] % {"low": low, "high": high}},
            )
            is_score = question.kind == Question.Kind.RELATIONSHIP_SCORE
            field.scale_low = words["score_low" if is_score else "rating_low"]
            field.scale_high = words["score_high" if is_score else "rating_high"]
            return field
        if question.kind == Question.Kind.SINGLE_CHOICE:
            return forms.ChoiceField(
                label=label,
                required=question.required,
                choices=question.choice_options(self.language),
                widget=forms.RadioSelect(attrs={"class": "choice-input"}),
                error_messages=required_message | {"invalid_choice": words["choose_option"]},
            )
        return AnswerTextField(
            label=label,
            required=question.required,
            max_length=MAX_ANSWER_LENGTH,
            widget=forms.Textarea(attrs={"rows": 4}),
            error_messages=required_message | {"max_length": words["too_long"]},
        )

    def answers(self) -> dict[str, object]:
        """The answers given (key → int | str), leaving out optional questions left blank."""
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key in self.fields and value not in (None, "")
        }
