"""Billing export: a professional's billing codes over a period, with the caps flagged.

Patient identity never leaves here: a row names the act, not the patient. The TE2 cap of
REGULATORY.md (at most ``TELESANTE_TE2_YEARLY_CAP`` per patient and expert over the year) is
checked again on the whole calendar year, and the warnings recorded with each code are kept.
The cap on remote activity (``TELESANTE_REMOTE_SHARE_CAP`` of the year's activity) needs the
year's whole activity, which the platform does not see: it is checked against the activity the
professional declared (``teleconsultation.ActivityDeclaration``, on their account page, by their
structure's administrator or by API), flagged from 80 % of the cap on. A télé-expertise answered
after its deadline (the filière's, 7 days at most: REGULATORY.md § Télé-expertise) is flagged.
"""

from collections import Counter

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import RegionalRole, User
from telesante.acts.models import BillingCode
from telesante.core.i18n import product_language
from telesante.core.text import csv_text
from telesante.indicators.filters import Period, parse_period
from telesante.teleconsultation.models import ActivityDeclaration

# Read in a French spreadsheet by the professional or their billing office.
HEADER = [
    "Date",
    "N° de l'acte",
    "Type d'acte",
    "Code",
    "RPPS",
    "Professionnel",
    "Structure demandeuse",
    "Facturable",
    "Alertes",
]


def target(user, raw_id: str) -> User:
    """Whose codes: one's own, or anyone's for the regional administration."""
    if not raw_id or raw_id == str(user.pk):
        if user.is_observer:
            raise PermissionDenied(_("Export de facturation réservé aux professionnels."))
        return user
    if user.regional_role != RegionalRole.ADMIN:
        raise PermissionDenied(
            _("Seule l'administration régionale exporte pour un autre professionnel.")
        )
    found = User.objects.filter(pk=raw_id).first() if raw_id.isdecimal() else None
    if found is None:
        raise ValidationError({"professional": [_("Professionnel inconnu.")]})
    return found


def period_of(raw: str) -> Period:
    try:
        return parse_period(raw or str(timezone.localdate().year))
    except ValueError:
        raise ValidationError(
            {"period": [_("Période invalide : AAAA, AAAA-S1, AAAA-S2 ou AAAA-MM.")]}
        ) from None


def rows(professional: User, period: Period) -> list[list]:
    start, end = period.bounds()
    year_start = start.replace(month=1, day=1)
    codes = (
        BillingCode.objects.filter(
            professional=professional, created_at__gte=year_start, created_at__lt=end
        )
        .select_related("act__requesting_structure", "act__teleexpertise")
        .order_by("created_at", "pk")
    )
    cap = settings.TELESANTE_TE2_YEARLY_CAP
    per_patient: Counter = Counter()
    remote = remote_share_flags(professional, codes)
    out = []
    for code in codes:
        flags = list(code.warnings) + remote.get(code.created_at.year, []) + _late(code.act)
        if code.code == "TE2" and code.billable:
            key = (code.act.patient_id, code.created_at.year)
            per_patient[key] += 1
            if per_patient[key] > cap:
                flags.append(
                    _("Plafond TE2 dépassé : %(n)d pour ce patient sur l'année (maximum %(cap)d).")
                    % {"n": per_patient[key], "cap": cap}
                )
        if code.created_at < start:
            continue  # counted for the cap, outside the exported period
        out.append(
            [
                timezone.localtime(code.created_at).strftime("%d/%m/%Y"),
                code.act_id,
                code.act.get_kind_display(),
                code.code,
                professional.rpps or "",
                professional.display_name,
                code.act.requesting_structure.name,
                "oui" if code.billable else "non",
                " | ".join(flags),
            ]
        )
    return out


def _late(act) -> list[str]:
    """A télé-expertise answered after its deadline (REGULATORY.md § Télé-expertise: within 7
    days, or the filière's shorter delay)."""
    te = getattr(act, "teleexpertise", None) if act.kind == "teleexpertise" else None
    if te is None or te.answered_at is None or act.due_at is None or te.answered_at <= act.due_at:
        return []
    late = te.answered_at - act.due_at
    return [
        _("Réponse hors délai : %(days)d j %(hours)d h après l'échéance du %(due)s.")
        % {
            "days": late.days,
            "hours": late.seconds // 3600,
            "due": timezone.localtime(act.due_at).strftime("%d/%m/%Y"),
        }
    ]


def remote_share_flags(professional: User, codes) -> dict[int, list[str]]:
    """Per calendar year, the flag of the remote-activity cap (empty when far from it)."""
    cap = settings.TELESANTE_REMOTE_SHARE_CAP
    years = {c.created_at.year for c in codes}
    declared = dict(
        ActivityDeclaration.objects.filter(professional=professional, year__in=years).values_list(
            "year", "total_acts"
        )
    )
    flags = {}
    for year in years:
        total = declared.get(year)
        if not total:
            continue
        remote = BillingCode.objects.filter(
            professional=professional, billable=True, created_at__year=year
        ).count()
        share = remote / total
        if share >= cap * 0.8:
            word = _("dépassé") if share > cap else _("bientôt atteint")
            flags[year] = [
                _(
                    "Plafond d'activité à distance %(word)s : %(share).0f %% de l'activité "
                    "déclarée en %(year)d (maximum %(cap).0f %%)."
                )
                % {"word": word, "share": 100 * share, "year": year, "cap": 100 * cap}
            ]
    return flags


@product_language()
def export_csv(professional: User, period: Period) -> str:
    return csv_text(HEADER, rows(professional, period))
