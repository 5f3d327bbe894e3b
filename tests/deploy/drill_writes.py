"""Writes a batch of patients, acts and documents through the platform's own services, for the
restore drill (`telesante shell -c "from tests.deploy.drill_writes import write; write(...)"`),
and prints what the database then holds as JSON."""

import hashlib
import json

from telesante.accounts.models import ApiToken, Membership, User
from telesante.acts.models import Act
from telesante.documents import services as documents
from telesante.documents.models import Attachment
from telesante.patients.models import Patient, PatientAttachment
from telesante.patients.services import search_key
from telesante.structures.models import Commune, Departement, Region, Structure, StructureKind

# A 1×1 PNG, stored through the documents service like any upload.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


EHPAD = "EHPAD de l'exercice"


def write(tag: str, count: int) -> None:
    region, _ = Region.objects.get_or_create(code="52", defaults={"name": "Pays de la Loire"})
    dep, _ = Departement.objects.get_or_create(
        code="53", defaults={"name": "Mayenne", "region": region}
    )
    Commune.objects.get_or_create(code="53130", defaults={"name": "Laval", "departement": dep})
    ehpad, _ = Structure.objects.get_or_create(
        name=EHPAD, defaults={"kind": StructureKind.EHPAD, "commune_id": "53130"}
    )
    nurse = User.objects.filter(email="ide.exercice@example.test").first()
    if nurse is None:
        nurse = User.objects.create_user("ide.exercice@example.test", None, last_name="Exercice")
        Membership.objects.create(user=nurse, structure=ehpad)
    for n in range(count):
        patient = Patient(
            birth_name=f"EXERCICE-{tag.upper()}",
            first_names=f"Camille {n}",
            birth_date="1941-05-06",
            sex="F",
            birthplace_code="53130",
        )
        patient.search_key = search_key(patient)
        patient.save()
        PatientAttachment.objects.create(patient=patient, structure=ehpad)
        act = Act.objects.create(
            kind="teleexpertise", patient=patient, requester=nurse, requesting_structure=ehpad
        )
        content = PNG + f"{tag}-{n}".encode()  # each document its own checksum
        clean = documents.CleanFile(content, "image/png", f"{tag}-{n}.png", None)
        documents.store(act, nurse, clean)
    print(json.dumps(state()))


def state() -> dict:
    """Row counts and the documents' checksums, read back from the files."""
    files = {}
    for attachment in Attachment.objects.order_by("pk"):
        with attachment.file.open("rb") as f:
            files[attachment.original_name] = [
                attachment.sha256,
                hashlib.sha256(f.read()).hexdigest(),
            ]
    return {
        "patients": Patient.objects.count(),
        "acts": Act.objects.count(),
        "documents": files,
    }


def professional() -> None:
    """A doctor of the exercise's EHPAD with an API token; prints the token."""
    write("equipe", 1)
    doctor = User.objects.create_user("medecin.exercice@example.test", None, last_name="Exercice")
    Membership.objects.create(user=doctor, structure=Structure.objects.get(name=EHPAD))
    _token, raw = ApiToken.issue(doctor)
    print(json.dumps({"token": raw}))
