import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from telesante.core import numbers, pickers, policy
from telesante.telesurveillance import catalog, enrolment, thresholds
from telesante.telesurveillance.models import WEEKDAYS, Programme, Severity

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})


class EnrolmentForm(forms.Form):
    patient = forms.ModelChoiceField(queryset=None, label=_("Patient"))
    programme = forms.ModelChoiceField(
        queryset=Programme.objects.filter(active=True), label=_("Programme (indication)")
    )
    team = forms.ModelChoiceField(queryset=None, label=_("Équipe opérateur"))
    operator = forms.ModelChoiceField(
        queryset=None,
        label=_("Médecin opérateur"),
        help_text=_("Un médecin de l'équipe opérateur : il répond du suivi et facture le forfait."),
        error_messages={"invalid_choice": _("Choisissez un médecin membre de l'équipe opérateur.")},
    )
    prescriber = forms.ModelChoiceField(queryset=None, label=_("Médecin prescripteur"))
    prescribed_on = forms.DateField(label=_("Date de la prescription"), widget=DATE)
    exploitant = forms.CharField(label=_("Exploitant (fournisseur du dispositif)"), max_length=150)
    devices = forms.CharField(
        label=_("Dispositifs (un numéro de série par ligne)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    device_label = forms.CharField(label=_("Modèle des dispositifs"), required=False)
    starts_on = forms.DateField(label=_("Début du suivi"), widget=DATE)
    ends_on = forms.DateField(label=_("Fin du suivi"), widget=DATE)
    reading_start = forms.TimeField(
        label=_("Lecture des données de"), initial=datetime.time(8), widget=TIME
    )
    reading_end = forms.TimeField(label=_("à"), initial=datetime.time(18), widget=TIME)
    reading_weekdays = forms.TypedMultipleChoiceField(
        label=_("Jours de lecture"),
        choices=WEEKDAYS,
        coerce=int,
        initial=[1, 2, 3, 4, 5],
        widget=forms.CheckboxSelectMultiple,
    )
    information_given = forms.BooleanField(
        label=_("Le patient a reçu l'information (dont : en cas d'urgence, appeler le 15)"),
        required=False,
    )
    act_consent = forms.BooleanField(
        label=_("Le patient consent à la télésurveillance"), required=False
    )
    data_consent = forms.BooleanField(
        label=_("Le patient consent au traitement de ses données"), required=False
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = policy.visible_patients(user)
        teams = policy.member_teams(user).select_related("structure")
        self.fields["team"].queryset = teams
        self.fields["team"].label_from_instance = lambda t: f"{t.structure} — {t}"
        mine = list(teams.values_list("pk", flat=True)[:2])
        if len(mine) == 1:  # the user's only team, already chosen
            self.fields["team"].initial = mine[0]
            self.fields["team"].empty_label = None
        self.fields["prescriber"].queryset = enrolment.prescribers()
        doctors = enrolment.operators(teams).order_by("last_name", "first_name")
        self.fields["operator"].queryset = doctors
        # Searchable pickers, never lists of every patient or doctor of the region.
        self.fields["patient"].widget = pickers.patient_widget(user)
        self.fields["prescriber"].widget = pickers.professional_widget(
            "prescriber", enrolment.prescribers
        )
        self.fields["operator"].widget = pickers.professional_widget("operator", lambda: doctors)
        if not self.is_bound and "operator" not in self.initial:
            # The user when a doctor of their teams, else the only doctor of those teams.
            found = list(doctors.filter(pk=user.pk)) or list(doctors[:2])
            if len(found) == 1:
                self.initial["operator"] = found[0].pk

    def new(self) -> enrolment.NewEnrolment:
        d = self.cleaned_data
        return enrolment.NewEnrolment(
            patient_id=d["patient"].pk,
            team_id=d["team"].pk,
            programme=d["programme"].pk,
            prescriber_id=d["prescriber"].pk,
            operator_id=d["operator"].pk,
            prescribed_on=d["prescribed_on"],
            act_consent=d["act_consent"],
            data_consent=d["data_consent"],
            information_given=d["information_given"],
            exploitant=d["exploitant"],
            devices=d["devices"].split(),
            device_label=d["device_label"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            reading_start=d["reading_start"],
            reading_end=d["reading_end"],
            reading_weekdays=d["reading_weekdays"],
        )


class ThresholdForm(forms.Form):
    """One rule. Every field is optional here: thresholds.check names what a rule lacks."""

    type = forms.ChoiceField(
        label=_("Mesure"),
        choices=[("", _("— (absence de données : toutes)"))]
        + [(code, kind.label) for code, kind in catalog.TYPES.items()],
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("Règle"), choices=[("", "—"), *thresholds.KINDS.items()], required=False
    )
    value = numbers.NumberField(label=_("Seuil ou variation"), required=False)
    days = numbers.NumberField(
        label=_("Sur (jours)"),
        required=False,
        integer=True,
        low=1,
        high=thresholds.MAX_DAYS,
        unit=_("jours"),
    )
    hours = numbers.NumberField(
        label=_("Sans données depuis (heures)"),
        required=False,
        integer=True,
        low=1,
        high=thresholds.MAX_HOURS,
        unit="h",
    )
    severity = forms.TypedChoiceField(
        label=_("Gravité"),
        choices=[("", "—"), *Severity.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The value's unit is the chosen measure's (thresholds.js follows a change of measure).
        measure = catalog.TYPES.get(str(self["type"].value() or ""))
        self.fields["value"].widget.unit = measure.shown_unit if measure else ""

    def rule(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "DELETE" and v not in ("", None)}


class BaseThresholdFormSet(forms.BaseFormSet):
    def kept(self) -> list[ThresholdForm]:
        """Rows to save: the existing ones not removed, and the new ones filled in."""
        return [
            f
            for f in self.forms
            if not self._should_delete_form(f) and (f.initial or f.has_changed())
        ]

    def name_errors(self, exc: ValidationError, kept: list[ThresholdForm]) -> None:
        """Put the service's `thresholds.<rank>.<field>` errors on their rows."""
        for key, messages in exc.message_dict.items():
            parts = key.split(".")
            form = kept[int(parts[1])] if len(parts) == 3 else None
            for message in messages:
                if form is None:
                    self._non_form_errors.append(message)
                else:
                    form.add_error(parts[2] if parts[2] in form.fields else None, message)


ThresholdFormSet = forms.formset_factory(
    ThresholdForm, formset=BaseThresholdFormSet, extra=1, can_delete=True
)


def measure_units() -> dict[str, str]:
    """Each measure's unit, for the page's script (the unit beside a threshold's value)."""
    return {code: kind.shown_unit for code, kind in catalog.TYPES.items()}


def threshold_rows(rules: list[dict]) -> list[dict]:
    """The stored rules as the formset's initial rows."""
    return [{"type": "", **rule} for rule in rules]
