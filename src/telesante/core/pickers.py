"""Searchable pickers: every choice of a professional or a patient is a search, never a capped
list. The page shows a combobox (static/js/picker.js) that asks a JSON endpoint for one page
of matches at a time; the value posted is the chosen id, checked again by the service.

Professionals are searched by name, profession, specialty and structure, accents and case
folded, among the candidates of a named set (who may perform a téléconsultation, the experts
of a filière, ...). Patients go through `patients.services.search` (the wall, and every
patient listed audited).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telesante.accounts.models import Membership, Profession, Specialty, User
from telesante.core.text import fold

PAGE_SIZE = 20


def _teleconsultation(user: User, params) -> QuerySet[User]:
    from telesante.teleconsultation import services

    return services.performers()


def _expert(user: User, params) -> QuerySet[User]:
    from telesante.acts.models import Filiere
    from telesante.teleexpertise import services

    filiere = Filiere.objects.filter(pk=params.get("filiere", ""), active=True).first()
    return services.named_expert_choices(filiere) if filiere else User.objects.none()


def _prescriber(user: User, params) -> QuerySet[User]:
    from telesante.telesurveillance import enrolment

    return enrolment.prescribers()


def _operator(user: User, params) -> QuerySet[User]:
    from telesante.core import policy
    from telesante.telesurveillance import enrolment

    return enrolment.operators(policy.member_teams(user))


def _gp(user: User, params) -> QuerySet[User]:
    return User.objects.filter(
        profession=Profession.DOCTOR, specialty=Specialty.GENERAL, is_active=True
    )


def _doctor(user: User, params) -> QuerySet[User]:
    return User.objects.filter(profession=Profession.DOCTOR, is_active=True).exclude(pk=user.pk)


# Candidate sets by name (the endpoint's URL): each the same queryset the service checks.
SETS: dict[str, Callable[[User, dict], QuerySet[User]]] = {
    "teleconsultation": _teleconsultation,
    "expert": _expert,
    "prescriber": _prescriber,
    "operator": _operator,
    "gp": _gp,
    "doctor": _doctor,
}


@dataclass
class Choice:
    id: int
    label: str
    detail: str


def _detail(profession: str, specialty: str, structures: list[str]) -> str:
    parts = [str(Profession(profession).label)]
    if specialty:
        parts.append(str(Specialty(specialty).label))
    return " · ".join(parts + structures)


def professionals(candidates: QuerySet[User], query: str, page: int = 1) -> tuple[list, bool]:
    """One page of the candidates matching every word of `query` (name, profession,
    specialty, structure). Two queries whatever the number of candidates; folding happens
    here because accounts keep their names as typed."""
    rows = list(
        candidates.order_by("last_name", "first_name", "pk").values_list(
            "pk", "first_name", "last_name", "email", "profession", "specialty"
        )
    )
    structures: dict[int, list[str]] = {}
    for user_id, name in (
        Membership.objects.filter(user__in=candidates.values("pk"))
        .order_by("structure__name")
        .values_list("user_id", "structure__name")
    ):
        structures.setdefault(user_id, []).append(name)
    words = fold(query).split()
    found = []
    for pk, first, last, email, profession, specialty in rows:
        label = f"{first} {last.upper()}".strip() or email
        detail = _detail(profession, specialty, structures.get(pk, []))
        haystack = fold(f"{first} {last} {detail}")
        if all(word in haystack for word in words):
            found.append(Choice(pk, label, detail))
    start = (max(page, 1) - 1) * PAGE_SIZE
    return found[start : start + PAGE_SIZE], len(found) > start + PAGE_SIZE


class PickerInput(forms.Widget):
    """A form field's searchable picker: the id in a hidden input, the combobox beside it.
    `url` is the search endpoint; `describe(value)` the label of a value already chosen."""

    def __init__(self, url: Callable[[], str], describe: Callable[[str], str], attrs=None):
        super().__init__(attrs)
        self.url, self.describe = url, describe
        self.placeholder = ""
        self.params = ""  # data-params of picker.js: "name=#selector,..."

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_search" if id_ else id_

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data

    def render(self, name, value, attrs=None, renderer=None) -> str:
        attrs = self.build_attrs(self.attrs, attrs)
        value = "" if value is None else str(value)
        return render_to_string(
            "partials/picker.html",
            {
                "name": name,
                "id": attrs.get("id", f"id_{name}"),
                "url": self.url(),
                "value": value,
                "value_label": self.describe(value) if value else "",
                "required": attrs.get("required", False),
                "placeholder": self.placeholder,
                "params": self.params,
                # What Django gives a field in error (aria-invalid, its help and error ids)
                # belongs to the combobox, the input people type in.
                "invalid": attrs.get("aria-invalid") == "true",
                "describedby": attrs.get("aria-describedby", ""),
            },
        )


def professional_widget(set_name: str, queryset: Callable[[], QuerySet[User]]) -> PickerInput:
    """The picker of a ModelChoiceField of professionals (`queryset`: its current choices)."""

    def describe(value: str) -> str:
        user = queryset().filter(pk=value).first() if value.isdecimal() else None
        return str(user) if user else ""

    return PickerInput(lambda: reverse("search_professionals", args=[set_name]), describe)


def patient_widget(user: User) -> PickerInput:
    """The picker of a ModelChoiceField of patients: the user's visible patients."""
    from telesante.core import policy

    def describe(value: str) -> str:
        found = (
            policy.visible_patients(user).filter(pk=value).first() if value.isdecimal() else None
        )
        return str(found) if found else ""

    widget = PickerInput(lambda: reverse("patient_search"), describe)
    widget.placeholder = _("Nom, prénom ou date de naissance (jj/mm/aaaa)…")
    return widget
