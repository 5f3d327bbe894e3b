from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telesante.core import paging, pickers, policy
from telesante.core.models import AuditAction
from telesante.core.views import page_number
from telesante.patients import record, services
from telesante.patients.forms import ConsentForm, InsiForm, PatientForm, StatusForm
from telesante.teleconsultation import services as teleconsultations
from telesante.teleexpertise import services as teleexpertises


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _require_clinician(request: HttpRequest) -> None:
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    _require_clinician(request)
    query = request.GET.get("q", "").strip()
    current = paging.page(request, services.matched(request.user, query))
    services.audit_listed(request, request.user, query, current)
    return render(request, "patients/list.html", {"page": current, "q": query})


@login_required
def patient_search(request: HttpRequest) -> JsonResponse:
    """A page of the visible patients matching the query, for the pickers (audited)."""
    _require_clinician(request)
    query = request.GET.get("q", "").strip()
    if not query:
        return JsonResponse({"results": [], "more": False})
    size = pickers.PAGE_SIZE
    found = services.search(
        request, request.user, query, limit=size + 1, offset=(page_number(request) - 1) * size
    )
    results = [
        {"id": p.pk, "label": str(p), "detail": services.picker_detail(p)} for p in found[:size]
    ]
    return JsonResponse({"results": results, "more": len(found) > size})


@login_required
def patient_create(request: HttpRequest) -> HttpResponse:
    _require_clinician(request)
    form = PatientForm(request.POST or None, user=request.user)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        try:
            patient, duplicates = services.create(
                request,
                request.user,
                form.save(commit=False),
                form.cleaned_data["structure"],
                form.cleaned_data["attachment_kind"],
                form.cleaned_data["confirm_not_duplicate"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if patient:
                messages.success(request, _("Patient créé avec une identité provisoire."))
                return redirect("patient_detail", pk=patient.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "patients/create.html", {"form": form, "duplicates": duplicates}, status=status
    )


@login_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = policy.get_patient(request, request.user, pk, AuditAction.READ)
    user = request.user
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "record": record.patient_record(request, user, patient, request.GET.get("page")),
            "may_book": teleconsultations.may_book(user),
            "may_request": teleexpertises.may_request(user),
            "attachments": patient.attachments.select_related("structure"),
            "status_changes": paging.page(
                request,
                patient.status_changes.select_related("changed_by").order_by("-changed_at", "-pk"),
                "statuts",
                20,
            ),
            "consents": paging.page(
                request,
                patient.consents.select_related("collected_by").order_by("-collected_at", "-pk"),
                "consentements",
                20,
            ),
            "status_form": StatusForm(initial={"new_status": patient.identity_status}),
            "consent_form": ConsentForm(),
            "insi_form": InsiForm(),
        },
    )


@require_POST
@login_required
def patient_status(request: HttpRequest, pk: int) -> HttpResponse:
    patient = policy.get_patient(request, request.user, pk, AuditAction.READ)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(request, request.user, patient, **form.cleaned_data)
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                messages.error(request, " ".join(errors))
        else:
            messages.success(request, _("Statut de l'identité mis à jour."))
    else:
        messages.error(request, _("Formulaire de statut incomplet."))
    return redirect("patient_detail", pk=patient.pk)


@require_POST
@login_required
def patient_insi(request: HttpRequest, pk: int) -> HttpResponse:
    """« Rechercher l'INS »: the INSi step, its outcome said on the patient's page."""
    patient = policy.get_patient(request, request.user, pk, AuditAction.READ)
    form = InsiForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Formulaire INSi incomplet."))
        return redirect("patient_detail", pk=patient.pk)
    try:
        outcome = services.insi_lookup(
            request,
            request.user,
            patient,
            form.cleaned_data["evidence"],
            form.cleaned_data["matricule"],
        )
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            messages.error(request, " ".join(errors))
    else:
        (messages.success if outcome.changed_status else messages.warning)(request, outcome.detail)
    return redirect("patient_detail", pk=patient.pk)


@require_POST
@login_required
def patient_objections(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient's objection to the DMP and to MSSanté (ticked = objects)."""
    patient = policy.get_patient(request, request.user, pk, AuditAction.READ)
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied
    services.set_objections(
        request,
        request.user,
        patient,
        dmp=request.POST.get("dmp_objection") == "on",
        mssante=request.POST.get("mssante_objection") == "on",
    )
    messages.success(request, _("Opposition au partage enregistrée."))
    return redirect("patient_detail", pk=patient.pk)


@require_POST
@login_required
def patient_consent(request: HttpRequest, pk: int) -> HttpResponse:
    patient = policy.get_patient(request, request.user, pk, AuditAction.READ)
    form = ConsentForm(request.POST)
    if form.is_valid():
        consent = form.save(commit=False)
        consent.patient = patient
        try:
            services.record_consent(request, request.user, consent)
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                messages.error(request, " ".join(errors))
        else:
            messages.success(request, _("Consentement enregistré."))
    else:
        messages.error(request, _("Indiquez le type d'acte et la décision du patient."))
    return redirect("patient_detail", pk=patient.pk)
