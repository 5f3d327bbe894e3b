"""The CapabilityStatement at /fhir/r4/metadata: what the facade reads, searches and accepts."""

from django.http import HttpRequest

from telesante.fhir.resources import FR_CORE_VITAL_SIGNS, PROFILES

READ_SEARCH = ["read", "search-type"]
# resource -> (supported profiles, interactions, search parameters and their types)
RESOURCES: dict[str, tuple[list[str], list[str], dict[str, str]]] = {
    "Patient": (
        [PROFILES["Patient"], PROFILES["PatientINS"]],
        READ_SEARCH,
        {"identifier": "token", "name": "string", "birthdate": "date"},
    ),
    "Practitioner": (
        [PROFILES["Practitioner"]],
        READ_SEARCH,
        {"identifier": "token", "name": "string"},
    ),
    "PractitionerRole": (
        [PROFILES["PractitionerRole"]],
        READ_SEARCH,
        {"practitioner": "reference", "organization": "reference"},
    ),
    "Organization": (
        [PROFILES["Organization"]],
        READ_SEARCH,
        {"identifier": "token", "name": "string"},
    ),
    "Observation": (
        [PROFILES["vitalsigns"], *FR_CORE_VITAL_SIGNS.values()],
        READ_SEARCH,
        {"patient": "reference", "code": "token", "date": "date"},
    ),
    "ServiceRequest": (
        [],
        [*READ_SEARCH, "create"],
        {"patient": "reference", "date": "date", "code": "token"},
    ),
    "Task": ([], READ_SEARCH, {"patient": "reference", "date": "date"}),
    "Appointment": (
        [PROFILES["Appointment"]],
        [*READ_SEARCH, "create"],
        {"patient": "reference", "date": "date"},
    ),
    "DocumentReference": ([], READ_SEARCH, {"patient": "reference", "date": "date"}),
    "Binary": ([], ["read"], {}),
    "Consent": ([], READ_SEARCH, {"patient": "reference"}),
}
COMMON_PARAMS = {"_count": "number", "_offset": "number"}


def statement(request: HttpRequest) -> dict:
    resources = []
    for kind, (profiles, interactions, params) in RESOURCES.items():
        entry: dict = {
            "type": kind,
            "interaction": [{"code": code} for code in interactions],
        }
        if profiles:
            entry["supportedProfile"] = profiles
        if "search-type" in interactions:
            entry["searchParam"] = [
                {"name": name, "type": kind_} for name, kind_ in {**params, **COMMON_PARAMS}.items()
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "software": {"name": "Télésanté"},
        "implementation": {
            "description": "Plateforme régionale de télésanté",
            "url": request.build_absolute_uri("/fhir/r4/"),
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Jeton personnel (Authorization: Bearer) ; les passerelles "
                "de dispositifs envoient leurs Observations par transaction avec leur jeton.",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                }
                            ],
                            "text": "Jeton porteur",
                        }
                    ]
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }
