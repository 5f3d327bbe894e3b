import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from telesante.core import audit, paging, policy
from telesante.core.actions import Conflict, run_then_back
from telesante.core.models import AuditAction
from telesante.notifications import services as notifications
from telesante.telesurveillance import (
    adherence,
    alerts,
    enrolment,
    forfaits,
    monitoring,
    reports,
    thresholds,
)
from telesante.telesurveillance.forms import (
    EnrolmentForm,
    ThresholdFormSet,
    measure_units,
    threshold_rows,
)
from telesante.telesurveillance.ingest import EMERGENCY_NOTICE
from telesante.telesurveillance.models import EnrolmentState


def _may(request: HttpRequest) -> None:
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The team board: monitored patients, worst live alert first (refreshed live), by pages."""
    _may(request)
    current = paging.page(request, alerts.board(request.user))
    audit.record(request, request.user, AuditAction.SEARCH, [r.act for r in current])
    context = {
        "rows": current.object_list,
        "page": current,
        "teams": list(policy.member_teams(request.user).values_list("pk", flat=True)),
    }
    if request.GET.get("fragment"):
        return render(request, "telesurveillance/board_rows.html", context)
    return render(request, "telesurveillance/board.html", context)


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    _may(request)
    form = EnrolmentForm(request.user, request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        try:
            created = enrolment.enrol(request, request.user, form.new())
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            messages.success(request, _("Patient inscrit en télésurveillance."))
            return redirect("telesurveillance_patient", created.pk)
    return render(request, "telesurveillance/enrol.html", {"form": form})


@login_required
def patient(request: HttpRequest, pk: int) -> HttpResponse:
    item = enrolment.get(request, request.user, pk)
    notifications.mark_read(request.user, act=item.act)
    now = timezone.now()
    return render(
        request,
        "telesurveillance/patient.html",
        {
            "e": item,
            "charts": monitoring.charts_for(item, now),
            "alerts": monitoring.alerts_of(item),
            "devices": item.devices.all(),
            "checkpoints": adherence.checkpoints(item, now.date()),
            "month": adherence.adherence(item, now.date().replace(day=1), now.date()),
            "forfaits": forfaits.of(item),
            "thresholds": [thresholds.describe(r) for r in item.thresholds],
            "in_team": item.team_id in policy.member_team_ids(request.user),
            "notice": _(EMERGENCY_NOTICE),
            "states": [EnrolmentState.ENDED, EnrolmentState.STOPPED],
        },
    )


def _error_text(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", [str(exc)]))


def _changes(lines: list[str]) -> str:
    # French sets a space before the semicolon, English does not: the separator is translated.
    return pgettext("entre deux éléments d'une liste", " ; ").join(lines)


def _alert_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    alert = alerts.get(request, request.user, pk)
    return run_then_back(request, alert, action, "telesurveillance_patient", alert.enrolment_id)


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_action(request, pk, lambda a: alerts.acknowledge(request, request.user, a))


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return _alert_action(request, pk, lambda a: alerts.resolve(request, request.user, a, note))


@login_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    item = enrolment.get(request, request.user, pk)
    try:
        enrolment.end(
            request,
            request.user,
            item,
            request.POST.get("state", ""),
            patient_contact=request.POST.get("patient_contact", ""),
        )
    except (Conflict, ValidationError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("Suivi terminé ; le compte rendu de fin de suivi est adressé au prescripteur."),
        )
    return redirect("telesurveillance_patient", pk)


@login_required
def threshold_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The opérateur team changes the patient's thresholds (the prescriber reads them on the
    patient page)."""
    item = enrolment.get(request, request.user, pk)
    if not thresholds.may_change(request.user, item):
        raise PermissionDenied
    formset = ThresholdFormSet(
        request.POST or None, initial=threshold_rows(item.thresholds), prefix="seuils"
    )
    if request.method == "POST" and formset.is_valid():
        kept = formset.kept()
        try:
            lines = thresholds.change(request, request.user, item, [f.rule() for f in kept])
        except ValidationError as exc:
            formset.name_errors(exc, kept)
        except Conflict as exc:
            messages.error(request, _error_text(exc))
            return redirect("telesurveillance_patient", pk)
        else:
            if lines:
                messages.success(
                    request, _("Seuils enregistrés : %(changes)s") % {"changes": _changes(lines)}
                )
            else:
                messages.info(request, _("Aucun seuil modifié."))
            return redirect("telesurveillance_patient", pk)
    hints = thresholds.hints(item)
    return render(
        request,
        "telesurveillance/thresholds.html",
        {
            "e": item,
            "formset": formset,
            "rows": [(f, hints[i] if i < len(hints) else "") for i, f in enumerate(formset)],
            "defaults": [thresholds.describe(r) for r in item.programme.thresholds],
            "history": thresholds.history(item),
            "units": measure_units(),
        },
    )


@login_required
@require_POST
def threshold_reset(request: HttpRequest, pk: int) -> HttpResponse:
    item = enrolment.get(request, request.user, pk)
    try:
        lines = thresholds.reset(request, request.user, item)
    except Conflict as exc:
        messages.error(request, _error_text(exc))
        return redirect("telesurveillance_patient", pk)
    if lines:
        messages.success(
            request, _("Seuils du programme rétablis : %(changes)s") % {"changes": _changes(lines)}
        )
    else:
        messages.info(request, _("Les seuils sont déjà ceux du programme."))
    return redirect("telesurveillance_patient", pk)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """Monthly report (?mois=AAAA-MM) or end-of-monitoring report (no month)."""
    item = enrolment.get(request, request.user, pk)
    raw = request.GET.get("mois", "")
    if raw:
        try:
            month = datetime.date.fromisoformat(f"{raw}-01")
        except ValueError:
            raise Http404(_("Mois invalide (AAAA-MM).")) from None
        pdf, name = reports.monthly(item, month), f"telesurveillance-{pk}-{raw}.pdf"
    else:
        pdf, name = reports.final(item), f"telesurveillance-{pk}-fin.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
