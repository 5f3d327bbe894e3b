import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telesante.acts import filiere_forms
from telesante.acts.models import Filiere
from telesante.core import numbers, paging, policy
from telesante.core.actions import Conflict, run_then_back
from telesante.documents import pdf
from telesante.notifications import services as notifications
from telesante.teleexpertise import billing, services
from telesante.teleexpertise.models import OPEN_STATES, ConsultationNeed, State, Urgency


@login_required
def boxes(request: HttpRequest) -> HttpResponse:
    # Only experts (a specialty) receive requests: the others land on what they sent.
    box = request.GET.get("box") or ("inbox" if request.user.specialty else "outbox")
    box = "outbox" if box == "outbox" else "inbox"
    state = request.GET.get("state", "")
    current = paging.page(
        request, services.listing(request.user, box, state if state in State.values else "")
    )
    services.audit_listed(request, request.user, current)
    return render(
        request,
        "teleexpertise/list.html",
        {
            "page": current,
            "box": box,
            "state": state,
            "states": State.choices,
            "now": timezone.now(),
        },
    )


def _form_values(definition: list[dict], post) -> dict:
    values = {}
    for f in definition:
        key = f"f_{f['name']}"
        if f["type"] == "multichoice":
            values[f["name"]] = post.getlist(key)
        elif f["type"] not in filiere_forms.FILE_TYPES:
            values[f["name"]] = post.get(key, "")
    return values


def _files(definition: list[dict], request: HttpRequest) -> dict:
    files = {}
    for f in filiere_forms.file_fields(definition):
        uploads = request.FILES.getlist(f"f_{f['name']}")
        raw_date = request.POST.get(f"f_{f['name']}_date", "")
        try:
            taken_on = datetime.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            taken_on = None
        if uploads:
            files[f["name"]] = [(u, taken_on) for u in uploads]
    return files


def _id(raw: str | None) -> int:
    """A posted id: 0 when empty, -1 (matches nothing, so a French error) when not a number."""
    if not raw:
        return 0
    return int(raw) if raw.isdecimal() and len(raw) < 19 else -1


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not services.may_request(request.user):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    filiere = Filiere.objects.filter(pk=source.get("filiere", ""), active=True).first()
    errors: dict = {}
    if request.method == "POST" and filiere is not None:
        new = services.NewRequest(
            patient_id=_id(source.get("patient")),
            structure_id=_id(source.get("structure")),
            filiere_code=filiere.pk,
            question=source.get("question", ""),
            urgency=source.get("urgency", Urgency.NORMAL),
            information_given=source.get("information_given") == "on",
            decision=source.get("decision", ""),
            form_data=_form_values(filiere.form, source),
            files=_files(filiere.form, request),
            named_expert_id=_id(source.get("named_expert")) or None,
        )
        try:
            te = services.create(request, request.user, new)
        except ValidationError as exc:
            errors = exc.message_dict
        except Http404:
            errors = {"patient": [_("Patient ou structure inaccessible.")]}
        else:
            messages.success(request, _("Demande envoyée aux experts."))
            return redirect("teleexpertise_detail", pk=te.pk)
    experts = services.named_expert_choices(filiere) if filiere else None
    named = _id(source.get("named_expert"))
    return render(
        request,
        "teleexpertise/create.html",
        {
            "patient": policy.visible_patients(request.user)
            .filter(pk=_id(source.get("patient")))
            .first(),
            "named_expert": experts.filter(pk=named).first()
            if experts is not None and named > 0
            else None,
            "structures": policy.member_structures(request.user),
            "filieres": Filiere.objects.filter(active=True),
            "filiere": filiere,
            "values": source,
            "errors": errors,
            "urgencies": Urgency.choices,
        },
        status=400 if errors else 200,
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    te = services.get(request, request.user, pk)
    act = te.act
    notifications.mark_read(request.user, act=act)
    is_expert = te.claimed_by_id == request.user.pk
    return render(
        request,
        "teleexpertise/detail.html",
        {
            "te": te,
            "act": act,
            "form_rows": filiere_forms.display(act.filiere.form, te.form_data),
            "attachments": act.attachments.all(),
            "thread": te.messages.select_related("author"),
            "billing_codes": act.billing_codes.select_related("professional"),
            "billing_warnings": billing.checks(te)
            if is_expert and te.state != State.ANSWERED
            else [],
            "is_expert": is_expert,
            "can_claim": te.state == State.POOLED
            and act.requester_id != request.user.pk
            and services.may_claim(request.user, te),
            "is_requester_side": services.is_requester_side(request.user, te),
            "consultation_needs": ConsultationNeed.choices,
            "now": timezone.now(),
            "overdue": act.due_at and act.due_at < timezone.now() and te.state in OPEN_STATES,
            "declines": te.declines.all(),
            "may_change": services.may_change(request.user, te),
        },
    )


@login_required
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    """The requester corrects the request (question, urgency, form) until an expert takes it."""
    te = services.get(request, request.user, pk)
    if not services.may_change(request.user, te):
        if te.act.requester_id != request.user.pk:
            raise PermissionDenied
        messages.error(request, _("Cette demande ne peut plus être modifiée."))
        return redirect("teleexpertise_detail", pk=pk)
    errors: dict = {}
    definition = te.act.filiere.form
    if request.method == "POST":
        correction = services.Correction(
            question=request.POST.get("question", ""),
            urgency=request.POST.get("urgency", ""),
            form_data=_form_values(definition, request.POST),
        )
        try:
            services.correct(request, request.user, te, correction)
        except ValidationError as exc:
            errors = exc.message_dict
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("teleexpertise_detail", pk=pk)
        else:
            messages.success(request, _("Demande corrigée."))
            return redirect("teleexpertise_detail", pk=pk)
        values = {"question": correction.question, "urgency": correction.urgency}
        values.update({f"f_{k}": v for k, v in correction.form_data.items()})
    else:
        values = {"question": te.question, "urgency": te.urgency}
        values.update({f"f_{k}": _shown(v) for k, v in te.form_data.items()})
    return render(
        request,
        "teleexpertise/correct.html",
        {
            "te": te,
            "fields": [f for f in definition if f["type"] not in filiere_forms.FILE_TYPES],
            "values": values,
            "errors": errors,
            "urgencies": Urgency.choices,
        },
        status=400 if errors else 200,
    )


def _shown(value):
    """A stored form value as its input shows it (a number with the decimal comma)."""
    return numbers.fmt(value) if isinstance(value, float) else value


@require_POST
@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on(
        request,
        pk,
        lambda te: services.withdraw(request, request.user, te, request.POST.get("reason", "")),
    )


def _act_on(request: HttpRequest, pk: int, action) -> HttpResponse:
    te = services.get(request, request.user, pk)
    return run_then_back(request, te, action, "teleexpertise_detail", pk)


@require_POST
@login_required
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on(request, pk, lambda te: services.claim(request, request.user, te))


@require_POST
@login_required
def message(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on(
        request,
        pk,
        lambda te: services.post_message(
            request,
            request.user,
            te,
            request.POST.get("body", ""),
            request.FILES.getlist("files"),
            ask_info=request.POST.get("ask_info") == "on",
        ),
    )


@require_POST
@login_required
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on(
        request,
        pk,
        lambda te: services.answer(
            request,
            request.user,
            te,
            request.POST.get("opinion", ""),
            request.POST.get("recommendations", ""),
            request.POST.get("consultation_need", ""),
        ),
    )


@require_POST
@login_required
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on(
        request,
        pk,
        lambda te: services.decline(request, request.user, te, request.POST.get("reason", "")),
    )


@login_required
def report(request: HttpRequest, pk: int) -> FileResponse:
    te = services.get(request, request.user, pk)
    return pdf.report_response(te.act, f"teleexpertise-{te.pk}.pdf")
