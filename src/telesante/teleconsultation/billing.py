"""Codes of téléconsultation, assisted téléconsultation and télésoin (REGULATORY.md), and the
remote-activity cap (20 % of a professional's yearly acts) warned on the performer's code."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Profession, Specialty
from telesante.acts.models import Act, ActStatus, BillingCode
from telesante.core.i18n import product_language
from telesante.patients.models import ActKind
from telesante.teleconsultation import telesoin
from telesante.teleconsultation.models import ActivityDeclaration, Assistance, TeleConsultation
from telesante.teleexpertise import billing as te2_billing

REMOTE_KINDS = [
    ActKind.TELECONSULTATION,
    ActKind.TELESOIN,
    ActKind.TELEASSISTANCE,
    ActKind.TELEEXPERTISE,
]
ASSISTANCE_CODES = {
    Assistance.NURSE_VISIT: "TLS",
    Assistance.NURSE_SITE: "TLL",
    Assistance.NURSE_HOME: "TLD",
    Assistance.PHARMACY: "TLM",
}


def cap_warnings(professional, year: int | None = None) -> list[str]:
    """French warnings when the professional's remote acts near or pass the yearly cap."""
    year = year or timezone.localdate().year
    declared = ActivityDeclaration.objects.filter(professional=professional, year=year).first()
    cap = settings.TELESANTE_REMOTE_CAP
    if declared is None or declared.total_acts == 0:
        return [
            _(
                "Activité %(year)s non déclarée : le plafond de %(cap)d %% d'activité à distance "
                "ne peut pas être vérifié."
            )
            % {"year": year, "cap": round(cap * 100)}
        ]
    remote = Act.objects.filter(
        performers=professional,
        kind__in=REMOTE_KINDS,
        status=ActStatus.DONE,
        done_at__year=year,
    ).count()
    share = remote / declared.total_acts
    values = {"share": round(share * 100, 1), "cap": round(cap * 100), "year": year}
    if share > cap:
        return [
            _(
                "Plafond dépassé : %(share)s %% de l'activité %(year)s à distance (plafond "
                "%(cap)s %%)."
            )
            % values
        ]
    if share >= settings.TELESANTE_REMOTE_CAP_WARN:
        return [
            _(
                "Proche du plafond : %(share)s %% de l'activité %(year)s à distance (plafond "
                "%(cap)s %%)."
            )
            % values
        ]
    return []


def performer_code(tc: TeleConsultation, performer) -> str | None:
    kind = tc.act.kind
    if kind == ActKind.TELECONSULTATION and performer.profession == Profession.DOCTOR:
        return "TCG" if performer.specialty == Specialty.GENERAL else "TC"
    if kind == ActKind.TELESOIN and performer.profession in telesoin.NURSES:
        return "TMI"
    return None


@product_language()
def record(tc: TeleConsultation) -> list[BillingCode]:
    """The codes of a finished act: the performer's, and the assisting professional's. An act
    of a performer who billed a TE2 for the patient the same day is not billed (REGULATORY.md
    § Télé-expertise, « no combination with another act »: the second act is not billed,
    whichever comes first), nor its assistance."""
    act = tc.act
    codes = []
    after_te2 = []
    for performer in act.performers.all():
        code = performer_code(tc, performer)
        if code:
            te2_act = te2_billing.te2_billed_before(performer, act)
            combined = [te2_billing.after_te2_warning(te2_act)] if te2_act else []
            after_te2 += combined
            codes.append(
                BillingCode(
                    act=act,
                    code=code,
                    professional=performer,
                    billable=not combined,
                    warnings=combined + cap_warnings(performer),
                )
            )
    assist_code = ASSISTANCE_CODES.get(tc.assistance)
    if assist_code and act.kind == ActKind.TELECONSULTATION:
        codes.append(
            BillingCode(
                act=act,
                code=assist_code,
                professional=act.requester,
                billable=not after_te2,
                warnings=[
                    *after_te2,
                    _("Prescripteur : %(who)s.")
                    % {"who": tc.prescriber.display_name if tc.prescriber else "—"},
                ],
            )
        )
    return BillingCode.objects.bulk_create(codes)
