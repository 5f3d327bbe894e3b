"""Billing codes of a télé-expertise (TE2 for the expert, RQD for the requester) and the
rule checks of REGULATORY.md § Télé-expertise: yearly cap per patient and expert, no
combination with another act, same MSP site exclusion."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.acts.models import BillingCode
from telesante.core.i18n import product_language
from telesante.structures.models import Structure, StructureKind

EXPERT_CODE, REQUESTER_CODE = "TE2", "RQD"


def checks(te) -> list[str]:
    """French warnings that make the act non-billable; empty when it may be billed."""
    act, expert = te.act, te.claimed_by
    warnings = []
    cap = settings.TELESANTE_TE2_YEARLY_CAP
    since = timezone.now() - datetime.timedelta(days=365)
    previous = (
        BillingCode.objects.filter(
            code=EXPERT_CODE,
            professional=expert,
            act__patient=act.patient,
            billable=True,
            created_at__gte=since,
        )
        .exclude(act=act)
        .count()
    )
    if previous >= cap:
        warnings.append(
            _(
                "Plafond atteint : %(n)d télé-expertises facturées pour ce patient "
                "par cet expert sur 12 mois (maximum %(cap)d)."
            )
            % {"n": previous, "cap": cap}
        )
    combined = _combined_with(te)
    if combined:
        warnings.append(
            _(
                "Non facturable : pas de cumul avec un autre acte du même expert pour ce patient "
                "le même jour (acte n° %(pk)s)."
            )
            % {"pk": combined}
        )
    same_msp = (
        Structure.objects.filter(kind=StructureKind.MSP, memberships__user=expert)
        .filter(memberships__user=act.requester)
        .exists()
    )
    if same_msp:
        warnings.append(_("Non facturable : le demandeur et l'expert exercent dans la même MSP."))
    return warnings


def _combination_start() -> datetime.datetime | None:
    """REGULATORY.md § Télé-expertise, « no combination with another act »: the window is
    TELESANTE_TE2_COMBINATION_DAYS calendar days ending today (the same day by default; 0 turns
    the check off). None when off."""
    days = settings.TELESANTE_TE2_COMBINATION_DAYS
    if days < 1:
        return None
    first = timezone.localdate() - datetime.timedelta(days=days - 1)
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))


def _billed_in_window(professional, act, **filters) -> int | None:
    """Another act of the professional for the act's patient, billed within the combination
    window: that act's id."""
    since = _combination_start()
    if since is None:
        return None
    return (
        BillingCode.objects.filter(
            professional=professional,
            act__patient_id=act.patient_id,
            billable=True,
            created_at__gte=since,
            **filters,
        )
        .exclude(act=act)
        .values_list("act_id", flat=True)
        .first()
    )


def _combined_with(te) -> int | None:
    """The TE2 comes second: any act of the same expert for the patient already billed."""
    return _billed_in_window(te.claimed_by, te.act)


def te2_billed_before(professional, act) -> int | None:
    """The TE2 came first (REGULATORY.md § Télé-expertise, « no combination with another
    act », whichever act comes first): the id of a TE2 the professional billed for the act's
    patient within the window, which makes this act, the second, not billable."""
    return _billed_in_window(professional, act, code=EXPERT_CODE)


def after_te2_warning(te2_act_id: int) -> str:
    return _(
        "Non facturable : pas de cumul avec la télé-expertise (TE2) facturée par ce "
        "professionnel pour ce patient le même jour (acte n° %(pk)s)."
    ) % {"pk": te2_act_id}


@product_language()
def record(te) -> list[BillingCode]:
    warnings = checks(te)
    billable = not warnings
    return BillingCode.objects.bulk_create(
        [
            BillingCode(
                act=te.act,
                code=EXPERT_CODE,
                professional=te.claimed_by,
                billable=billable,
                warnings=warnings,
            ),
            BillingCode(
                act=te.act,
                code=REQUESTER_CODE,
                professional=te.act.requester,
                billable=billable,
                warnings=warnings,
            ),
        ]
    )
