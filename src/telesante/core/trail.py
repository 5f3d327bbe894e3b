"""What structure administrators see of the audit trail: accesses to their patients."""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from telesante.core.models import AuditEntry
from telesante.core.text import BOM
from telesante.patients.models import PatientAttachment
from telesante.structures.models import Structure

# Headers and times as a French reader expects them; the file is a record: always French.
CSV_HEADER = [
    "Date et heure",
    "Professionnel",
    "Action",
    "Objet",
    "N° de l'objet",
    "N° du patient",
    "Détail",
    "Adresse IP",
    "Navigateur",
    "Canal",
]


def entries_for(structure: Structure) -> QuerySet[AuditEntry]:
    patient_ids = PatientAttachment.objects.filter(structure=structure).values("patient_id")
    return AuditEntry.objects.filter(patient_id__in=patient_ids)


def _cell(value) -> str:
    """Neutralise what a spreadsheet would run as a formula (user agents and searches are typed
    by users: "=HYPERLINK(...)" must stay text)."""
    text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield BOM + writer.writerow(CSV_HEADER)
    for e in entries.iterator(chunk_size=2000):
        yield writer.writerow(
            _cell(v)
            for v in [
                timezone.localtime(e.at).strftime("%d/%m/%Y %H:%M:%S"),
                e.actor_label,
                e.get_action_display(),
                e.object_type,
                e.object_id,
                e.patient_id or "",
                e.detail,
                e.ip or "",
                e.user_agent,
                e.via,
            ]
        )
