from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telesante.core import pickers, policy
from telesante.patients.models import (
    AttachmentKind,
    Consent,
    EvidenceKind,
    IdentityStatus,
    Patient,
)
from telesante.structures import places


class DateInput(forms.DateInput):
    input_type = "date"


class PatientForm(forms.ModelForm):
    structure = forms.ModelChoiceField(queryset=None, label=_("Structure de rattachement"))
    attachment_kind = forms.ChoiceField(
        choices=AttachmentKind.choices,
        label=_("Lien avec la structure"),
        initial=AttachmentKind.PATIENT,
    )
    born_abroad = forms.BooleanField(
        required=False,
        label=_("Né·e à l'étranger"),
        help_text=_("Cochez, puis cherchez le pays de naissance."),
    )
    confirm_not_duplicate = forms.BooleanField(
        required=False,
        label=_("J'ai vérifié : ce patient n'est aucune des identités proches listées."),
    )

    class Meta:
        model = Patient
        fields = [
            "birth_name",
            "first_names",
            "used_name",
            "used_first_name",
            "birth_date",
            "sex",
            "birthplace_code",
            "gp",
        ]
        widgets = {"birth_date": DateInput(format="%Y-%m-%d")}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        structures = policy.member_structures(user)
        self.fields["structure"].queryset = structures
        mine = list(structures.values_list("pk", flat=True)[:2])
        if len(mine) == 1:  # the common case: the user's only structure, already chosen
            self.fields["structure"].initial = mine[0]
            self.fields["structure"].empty_label = None
        gps = pickers.SETS["gp"]
        self.fields["gp"].queryset = gps(user, {})
        self.fields["gp"].widget = pickers.professional_widget("gp", lambda: gps(user, {}))
        self.fields["birthplace_code"].widget = pickers.PickerInput(
            lambda: reverse("search_birthplaces"), places.label
        )
        self.fields["birthplace_code"].widget.placeholder = _(
            "Commune de naissance (ou pays, si né·e à l'étranger)…"
        )
        self.fields["birthplace_code"].widget.params = "abroad=#id_born_abroad"
        self.fields["birthplace_code"].label = _("Lieu de naissance")
        self.fields["first_names"].help_text = _("Tous les prénoms de naissance, dans l'ordre.")

    def clean_birthplace_code(self) -> str:
        code = self.cleaned_data["birthplace_code"].strip().upper()
        if len(code) != 5:
            raise forms.ValidationError(
                _("Choisissez la commune de naissance dans la liste (ou le pays).")
            )
        return code

    def clean(self) -> dict:
        data = super().clean()
        code = data.get("birthplace_code")
        if code and data.get("born_abroad") != code.startswith("99"):
            self.add_error(
                "birthplace_code", _("Né·e à l'étranger : choisissez un pays ; sinon, une commune.")
            )
        return data


class StatusForm(forms.Form):
    """A status changed by hand: up to VALI (RECUP and QUAL come from the INSi teleservice, and
    with them the matricule; the service says so in French when they are chosen here)."""

    new_status = forms.ChoiceField(choices=IdentityStatus.choices, label=_("Nouveau statut"))
    evidence = forms.ChoiceField(choices=EvidenceKind.choices, label=_("Justificatif vérifié"))
    note = forms.CharField(required=False, max_length=250, label=_("Remarque"))

    def __init__(self, *args, **kwargs) -> None:
        # The patient page shows this form beside the consent form: ids of their own.
        kwargs.setdefault("auto_id", "status_%s")
        super().__init__(*args, **kwargs)


class InsiForm(forms.Form):
    """« Rechercher l'INS »: the document seen with the patient (a validated identity's own by
    default) and, when the carte Vitale was read, its matricule for a verification."""

    evidence = forms.ChoiceField(
        choices=[(EvidenceKind.NONE, _("Aucune (ou celle de la validation)"))]
        + [
            (value, label)
            for value, label in EvidenceKind.choices
            if value in EvidenceKind.high_trust()
        ],
        required=False,
        initial=EvidenceKind.NONE,
        label=_("Pièce d'identité vue avec le patient"),
    )
    matricule = forms.CharField(
        required=False,
        max_length=21,
        label=_("Matricule lu sur la carte Vitale"),
        help_text=_("Sans matricule, INSi cherche par les traits."),
    )


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["act_kind", "information_given", "decision", "note"]
        widgets = {"decision": forms.RadioSelect}

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "consent_%s")
        super().__init__(*args, **kwargs)
