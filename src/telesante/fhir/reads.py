"""Reads and searches: each goes through the wall (`core/policy.py`) or the service that
applies it, and audits every patient or act it shows; professionals and structures are the
directory's, not patient data."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from telesante.accounts.models import Membership, User
from telesante.acts.models import Act
from telesante.core import audit, policy
from telesante.core.identifiers import IDNPS_OID, IDNST_OID
from telesante.core.models import AuditAction
from telesante.fhir import resources, search
from telesante.patients import services as patient_services
from telesante.patients.models import MATRICULE_OIDS, Consent, IdentityStatus
from telesante.structures.models import Structure
from telesante.teleconsultation import services as tc_services
from telesante.teleexpertise.models import TeleExpertise
from telesante.telesurveillance import catalog
from telesante.telesurveillance.models import Measurement


def bundle(request: HttpRequest, total: int, resources_: list[dict], at: search.Window) -> dict:
    """A searchset Bundle with its total and its paging links (self, previous, next)."""
    base = request.build_absolute_uri(request.path)
    query = request.GET.copy()

    def link(relation: str, offset: int) -> dict:
        query["_offset"], query["_count"] = str(offset), str(at.count)
        return {"relation": relation, "url": f"{base}?{urlencode(sorted(query.items()))}"}

    links = [link("self", at.offset)]
    if at.offset > 0:
        links.append(link("previous", max(0, at.offset - at.count)))
    if at.count and at.offset + at.count < total:
        links.append(link("next", at.offset + at.count))
    root = request.build_absolute_uri("/fhir/r4/")
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{root}{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources_
        ],
    }


def _clinician(request: HttpRequest) -> None:
    """Regional observers never see patient data (403, as /api/v1/)."""
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied("Accès refusé pour ce rôle.")


def _listed(request: HttpRequest, items: QuerySet, at: search.Window, detail: str = ""):
    """The window of `items`, each row audited as listed."""
    total, rows = search.page_rows(items, at)
    audit.record(
        request,
        request.user,
        AuditAction.SEARCH,
        [getattr(r, "act", r) for r in rows],
        detail=detail[:200],
    )
    return total, rows


def _patient_id(given: dict[str, str], required: bool = False) -> int | None:
    if "patient" not in given:
        if required:
            raise search.BadSearch("Paramètre patient obligatoire (ex. patient=Patient/12).")
        return None
    return search.reference_id("patient", given["patient"], "Patient")


# Patients


def patient_search(request: HttpRequest) -> dict:
    """identifier (the INS, qualified identities only), name, birthdate."""
    _clinician(request)
    given = search.params(request, {"identifier", "name", "birthdate"})
    at = search.window(given)
    items = patient_services.matching(request.user, given.get("name", ""))
    if "birthdate" in given:
        items = items.filter(
            search.date_q("birthdate", given["birthdate"], "birth_date", day_field=True)
        )
    if "identifier" in given:
        system, value = search.token(given["identifier"])
        q = Q(identity_status=IdentityStatus.QUALIFIED, matricule=value)
        if system:
            kinds = [kind for kind, oid in MATRICULE_OIDS.items() if oid == system]
            q &= Q(matricule_kind__in=kinds)
        items = items.filter(q)
    total, rows = search.page_rows(items, at)
    detail = " ".join(f"{k}={v}" for k, v in sorted(given.items()))
    patient_services.audit_listed(request, request.user, detail, rows)
    return bundle(request, total, [resources.patient(p) for p in rows], at)


def patient_read(request: HttpRequest, pk: int) -> dict:
    return resources.patient(policy.get_patient(request, request.user, pk, AuditAction.READ))


# Professionals and structures (the directory: no patient data, no audit)


def _practitioners() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, pk__in=Membership.objects.values("user_id")
    ).order_by("last_name", "first_name", "pk")


def practitioner_search(request: HttpRequest) -> dict:
    """identifier (IDNPS `8`+RPPS, or RPPS), name."""
    given = search.params(request, {"identifier", "name"})
    at = search.window(given)
    items = _practitioners()
    if "identifier" in given:
        system, value = search.token(given["identifier"])
        rpps = value[1:] if system == IDNPS_OID or (system is None and len(value) == 12) else value
        if system not in (None, IDNPS_OID, resources.RPPS_SYSTEM):
            rpps = ""
        items = items.filter(rpps=rpps) if rpps else items.none()
    for word in given.get("name", "").split():
        items = items.filter(Q(last_name__icontains=word) | Q(first_name__icontains=word))
    total, rows = search.page_rows(items, at)
    return bundle(request, total, [resources.practitioner(u) for u in rows], at)


def practitioner_read(request: HttpRequest, pk: int) -> dict:
    found = _practitioners().filter(pk=pk).first()
    if found is None:
        raise Http404
    return resources.practitioner(found)


def _roles() -> QuerySet[Membership]:
    return Membership.objects.filter(user__is_active=True).select_related("user", "structure")


def practitioner_role_search(request: HttpRequest) -> dict:
    """practitioner, organization."""
    given = search.params(request, {"practitioner", "organization"})
    at = search.window(given)
    items = _roles().order_by("user__last_name", "pk")
    if "practitioner" in given:
        items = items.filter(
            user_id=search.reference_id("practitioner", given["practitioner"], "Practitioner")
        )
    if "organization" in given:
        items = items.filter(
            structure_id=search.reference_id("organization", given["organization"], "Organization")
        )
    total, rows = search.page_rows(items, at)
    return bundle(request, total, [resources.practitioner_role(m) for m in rows], at)


def practitioner_role_read(request: HttpRequest, pk: int) -> dict:
    found = _roles().filter(pk=pk).first()
    if found is None:
        raise Http404
    return resources.practitioner_role(found)


def organization_search(request: HttpRequest) -> dict:
    """identifier (FINESS, or idNatSt `1`+FINESS), name."""
    given = search.params(request, {"identifier", "name"})
    at = search.window(given)
    items = Structure.objects.select_related("commune").order_by("name", "pk")
    if "identifier" in given:
        system, value = search.token(given["identifier"])
        if system == IDNST_OID:
            value = value[1:] if value.startswith("1") else ""
        elif system not in (None, resources.FINESS_SYSTEM):
            value = ""
        items = items.filter(Q(finess=value) | Q(finess_ej=value)) if value else items.none()
    for word in given.get("name", "").split():
        items = items.filter(name__icontains=word)
    total, rows = search.page_rows(items, at)
    return bundle(request, total, [resources.organization(s) for s in rows], at)


def organization_read(request: HttpRequest, pk: int) -> dict:
    found = Structure.objects.select_related("commune").filter(pk=pk).first()
    if found is None:
        raise Http404
    return resources.organization(found)


# Télésurveillance measurements


def _measure_types(raw: str) -> list[str]:
    """The platform's measurement types a `code` token names (LOINC or the platform's)."""
    system, code = search.token(raw)
    by_loinc = [t.code for t in catalog.TYPES.values() if t.loinc == code]
    own = [code] if code in catalog.TYPES else []
    if system == resources.LOINC:
        return by_loinc
    if system == resources.MEASURE_SYSTEM:
        return own
    return [] if system else by_loinc + own


def observation_search(request: HttpRequest) -> dict:
    """patient (required: read through the wall and audited), code, date; newest first."""
    _clinician(request)
    given = search.params(request, {"patient", "code", "date"})
    at = search.window(given)
    pid = _patient_id(given, required=True)
    patient = policy.get_patient(request, request.user, pid, AuditAction.READ)
    items = Measurement.objects.filter(enrolment__act__patient=patient).select_related("device")
    if "code" in given:
        items = items.filter(type__in=_measure_types(given["code"]))
    if "date" in given:
        items = items.filter(search.date_q("date", given["date"], "at"))
    total, rows = search.page_rows(items.order_by("-at", "-pk"), at)
    return bundle(request, total, [resources.observation(m, patient.pk) for m in rows], at)


def observation_read(request: HttpRequest, pk: int) -> dict:
    """One measurement, through the same wall as the search and the batch API's list: the
    patient's."""
    _clinician(request)
    found = Measurement.objects.select_related("device", "enrolment__act").filter(pk=pk).first()
    if found is None:
        raise Http404
    patient_id = found.enrolment.act.patient_id
    patient = policy.get_patient(request, request.user, patient_id, AuditAction.READ)
    return resources.observation(found, patient.pk)


# Acts: télé-expertise, téléconsultation, reports


def _act_filters(given: dict[str, str], date_field: str, patient_field: str) -> Q:
    """The `patient` and `date` parameters on the rows' fields of those names."""
    q = Q()
    pid = _patient_id(given)
    if pid is not None:
        q &= Q(**{patient_field: pid})
    if "date" in given:
        q &= search.date_q("date", given["date"], date_field)
    return q


def _expertises(request: HttpRequest, allowed: set[str]) -> tuple:
    _clinician(request)
    given = search.params(request, {"patient", "date", *allowed})
    acts = policy.visible_acts(request.user).values("pk")
    items = (
        TeleExpertise.objects.filter(act__in=acts)
        .filter(_act_filters(given, "act__created_at", "act__patient_id"))
        .select_related("act__filiere")
        .order_by("-act__created_at", "-pk")
    )
    if "code" in given:
        items = items.filter(act__filiere_id=search.token(given["code"])[1])
    return _listed(request, items, search.window(given), "FHIR"), search.window(given)


def service_request_search(request: HttpRequest) -> dict:
    """patient, date (of the request), code (the filière)."""
    (total, rows), at = _expertises(request, {"code"})
    return bundle(request, total, [resources.service_request(te) for te in rows], at)


def task_search(request: HttpRequest) -> dict:
    """patient, date (of the request)."""
    (total, rows), at = _expertises(request, set())
    return bundle(request, total, [resources.task(te) for te in rows], at)


def _expertise(request: HttpRequest, pk: int) -> TeleExpertise:
    act = policy.get_act(request, request.user, pk, AuditAction.READ)
    found = TeleExpertise.objects.select_related("act__filiere").filter(act=act).first()
    if found is None:
        raise Http404
    return found


def service_request_read(request: HttpRequest, pk: int) -> dict:
    return resources.service_request(_expertise(request, pk))


def task_read(request: HttpRequest, pk: int) -> dict:
    return resources.task(_expertise(request, pk))


def appointment_search(request: HttpRequest) -> dict:
    """patient, date (of the appointment); latest first."""
    _clinician(request)
    given = search.params(request, {"patient", "date"})
    at = search.window(given)
    filters = _act_filters(given, "scheduled_at", "act__patient_id")
    items = tc_services.listing(request.user).filter(filters)
    total, rows = _listed(request, items, at, "FHIR")
    return bundle(request, total, [resources.appointment(tc) for tc in rows], at)


def appointment_read(request: HttpRequest, pk: int) -> dict:
    return resources.appointment(tc_services.get(request, request.user, pk))


def _reports(user) -> QuerySet[Act]:
    return policy.visible_acts(user).exclude(report="").prefetch_related("performers")


def document_reference_search(request: HttpRequest) -> dict:
    """patient, date (the act's end); newest first."""
    _clinician(request)
    given = search.params(request, {"patient", "date"})
    at = search.window(given)
    items = _reports(request.user).filter(_act_filters(given, "done_at", "patient_id"))
    total, rows = _listed(request, items.order_by("-done_at", "-pk"), at, "FHIR")
    return bundle(request, total, [resources.document_reference(a) for a in rows], at)


def _report(request: HttpRequest, pk: int, action: AuditAction) -> Act:
    act = policy.get_act(request, request.user, pk, action)
    if not act.report:
        raise Http404
    return act


def document_reference_read(request: HttpRequest, pk: int) -> dict:
    return resources.document_reference(_report(request, pk, AuditAction.READ))


def binary_read(request: HttpRequest, pk: int) -> dict:
    return resources.binary(_report(request, pk, AuditAction.EXPORT))


# Consent


def consent_search(request: HttpRequest) -> dict:
    """patient (required: read through the wall and audited)."""
    _clinician(request)
    given = search.params(request, {"patient"})
    at = search.window(given)
    patient = policy.get_patient(
        request, request.user, _patient_id(given, required=True), AuditAction.READ
    )
    total, rows = search.page_rows(Consent.objects.filter(patient=patient), at)
    return bundle(request, total, [resources.consent(c) for c in rows], at)


def consent_read(request: HttpRequest, pk: int) -> dict:
    found = Consent.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    policy.get_patient(request, request.user, found.patient_id, AuditAction.READ)
    return resources.consent(found)
