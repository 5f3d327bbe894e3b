from django import forms
from django.utils.translation import gettext_lazy as _

from telesante.accounts.models import Profession
from telesante.core import policy
from telesante.patients.models import (
    AttachmentKind,
    Consent,
    EvidenceKind,
    IdentityStatus,
    MatriculeKind,
    Patient,
)


class DateInput(forms.DateInput):
    input_type = "date"


class PatientForm(forms.ModelForm):
    structure = forms.ModelChoiceField(queryset=None, label=_("Structure de rattachement"))
    attachment_kind = forms.ChoiceField(
        choices=AttachmentKind.choices,
        label=_("Lien avec la structure"),
        initial=AttachmentKind.PATIENT,
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
        self.fields["structure"].queryset = policy.member_structures(user)
        self.fields["gp"].queryset = (
            self.fields["gp"]
            .queryset.filter(
                profession=Profession.DOCTOR, specialty="medecine_generale", is_active=True
            )
            .order_by("last_name", "first_name")
        )
        self.fields["birthplace_code"].widget.attrs.update(
            {"inputmode": "numeric", "maxlength": 5, "placeholder": _("53130 ou 99134")}
        )
        self.fields["first_names"].help_text = _("Tous les prénoms de naissance, dans l'ordre.")

    def clean_birthplace_code(self) -> str:
        code = self.cleaned_data["birthplace_code"].strip().upper()
        if len(code) != 5:
            raise forms.ValidationError(_("Le code INSEE compte 5 caractères."))
        return code


class StatusForm(forms.Form):
    new_status = forms.ChoiceField(choices=IdentityStatus.choices, label=_("Nouveau statut"))
    evidence = forms.ChoiceField(choices=EvidenceKind.choices, label=_("Justificatif vérifié"))
    matricule = forms.CharField(
        required=False, max_length=21, label=_("Matricule INS (qualification)")
    )
    matricule_kind = forms.ChoiceField(
        choices=MatriculeKind.choices, required=False, label=_("Type de matricule")
    )
    note = forms.CharField(required=False, max_length=250, label=_("Remarque"))


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["act_kind", "information_given", "decision", "note"]
        widgets = {"decision": forms.RadioSelect}
