"""Three years of télé-expertise history for the demo region: acts, their consents, the
expert's answer and the TE2/RQD codes, plus the requests still open this week.

20,000 acts per unit of `--scale` (so `--scale 50` gives the million acts of the inbox
benchmark), written with plain inserts like the patients: the ORM costs too much per row.
"""

import datetime
import json
import random
from collections import defaultdict
from dataclasses import dataclass

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from tqdm import tqdm

from telesante.accounts.models import Membership, Specialty
from telesante.acts.models import Act, ActStatus, BillingCode, Filiere
from telesante.patients.models import ActKind, Consent, ConsentDecision
from telesante.structures.models import StructureKind
from telesante.teleexpertise.models import ConsultationNeed, State, TeleExpertise, Urgency

BASE_ACTS = 20_000
HISTORY_DAYS = 3 * 365
BATCH = 5000
# Share of requests per filière: wounds and skin first, as in the regions' reports.
FILIERE_WEIGHTS = {
    Specialty.WOUNDS: 0.34,
    Specialty.DERMATOLOGY: 0.26,
    Specialty.CARDIOLOGY: 0.18,
    Specialty.GERIATRICS: 0.14,
    Specialty.PSYCHIATRY: 0.08,
}
QUESTIONS = {
    Specialty.WOUNDS: "Plaie qui ne cicatrise pas malgré les soins : conduite à tenir ?",
    Specialty.DERMATOLOGY: "Lésion cutanée d'apparition récente : avis sur la nature ?",
    Specialty.CARDIOLOGY: "ECG joint : anomalie du rythme ? Adaptation du traitement ?",
    Specialty.GERIATRICS: "Troubles du comportement récents : adaptation de la prise en charge ?",
    Specialty.PSYCHIATRY: "Anxiété et insomnie persistantes : avis sur le traitement ?",
}
OPINION = "Avis rendu : prise en charge adaptée, poursuivre les soins selon les recommandations."
RECOMMENDATIONS = "Réévaluation à 15 jours, photos de contrôle à joindre."
ACT_FIELDS = [
    "id", "kind", "filiere", "patient", "requester", "requesting_structure", "requesting_team",
    "performing_structure", "performing_team", "status", "consent", "created_at", "requested_at",
    "due_at", "done_at", "report",
]  # fmt: skip
TE_FIELDS = [
    "act", "question", "urgency", "form_data", "state", "named_expert", "claimed_by",
    "claimed_at", "opinion", "recommendations", "consultation_need", "answered_at",
    "cancel_reason",
]  # fmt: skip
CONSENT_FIELDS = [
    "id", "patient", "act_kind", "information_given", "decision", "note", "collected_by",
    "structure", "collected_at",
]  # fmt: skip
PERFORMER_FIELDS = ["act", "user"]
BILLING_FIELDS = ["act", "code", "professional", "billable", "warnings", "created_at"]
STATUS = {
    State.POOLED: ActStatus.REQUESTED,
    State.CLAIMED: ActStatus.IN_PROGRESS,
    State.WAITING_INFO: ActStatus.WAITING_INFO,
    State.ANSWERED: ActStatus.DONE,
    State.CANCELLED: ActStatus.CANCELLED,
}


@dataclass(slots=True)
class Expert:
    user: int
    structure: int
    team: int


@dataclass(slots=True)
class Requesting:
    structure: int
    team: int
    dept: str
    requesters: list[int]
    patients: list[int]


class History:
    def __init__(
        self,
        rng: random.Random,
        scale: int,
        progress: bool,
        requesting: list[Requesting],
        insert_rows,
    ) -> None:
        self.rng = rng
        self.total = BASE_ACTS * scale
        self.progress = progress
        self.requesting = [r for r in requesting if r.requesters and r.patients]
        self.insert_rows = insert_rows
        self.now = timezone.now()
        self.adapt = connection.ops.adapt_datetimefield_value
        self.filieres = {
            f.specialty: f for f in Filiere.objects.filter(specialty__in=FILIERE_WEIGHTS)
        }
        self.local: dict[tuple[str, str], list[Expert]] = defaultdict(list)
        self.reference: dict[str, list[Expert]] = defaultdict(list)
        experts = Membership.objects.filter(
            user__specialty__in=self.filieres, user__is_active=True
        ).values_list("user_id", "user__specialty", "structure_id", "team_id",
                      "structure__departement_id", "structure__kind")  # fmt: skip
        seen = set()
        for user, specialty, structure, team, dept, kind in experts.order_by("pk"):
            if (user, structure) in seen:  # their first team, the one of their specialty
                continue
            seen.add((user, structure))
            self.local[specialty, dept].append(Expert(user, structure, team))
            if kind == StructureKind.CHU:
                self.reference[specialty].append(Expert(user, structure, team))

    def experts(self, specialty: str, dept: str) -> list[Expert]:
        return self.local.get((specialty, dept)) or self.reference.get(specialty) or []

    def moments(self) -> list[float]:
        """How many days ago each request was sent, oldest first, so that ids follow time as
        they do in real use; activity grows steadily over the years (linear density)."""
        return sorted((HISTORY_DAYS * (1 - self.rng.random() ** 0.5) for _ in range(self.total)),
                      reverse=True)  # fmt: skip

    def course(
        self, sent: datetime.datetime
    ) -> tuple[str, datetime.datetime | None, datetime.datetime | None]:
        """(state, claimed at, answered at): a request is taken within about a day and answered
        within days; the recent ones are still on their way."""
        rng = self.rng
        claimed = sent + datetime.timedelta(hours=rng.uniform(0.5, 30))
        answered = sent + datetime.timedelta(days=rng.triangular(0.2, 9, 1.5))
        claimed = min(claimed, answered)
        if claimed > self.now:
            return State.POOLED, None, None
        if answered > self.now:
            return (State.WAITING_INFO if rng.random() < 0.25 else State.CLAIMED), claimed, None
        if rng.random() < 0.02:
            return State.CANCELLED, None, None
        return State.ANSWERED, claimed, answered

    def run(self) -> int:
        if not self.requesting or not self.filieres:
            return 0
        specialties = list(FILIERE_WEIGHTS)
        weights = [FILIERE_WEIGHTS[s] for s in specialties]
        bar = tqdm(
            total=self.total, desc="Télé-expertises", unit=" actes", disable=not self.progress
        )
        with connection.cursor() as cursor, bar:
            if connection.vendor == "postgresql":  # no concurrent insert may take our ids
                for model in (Act, Consent):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            act_id = (Act.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
            consent_id = (Consent.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
            done, moments = 0, self.moments()
            while done < self.total:
                rows = defaultdict(list)
                size = min(BATCH, self.total - done)
                for days_ago in moments[done : done + size]:
                    specialty = self.rng.choices(specialties, weights)[0]
                    sent = self.now - datetime.timedelta(days=days_ago)
                    if self.add(rows, act_id, consent_id, specialty, sent):
                        act_id += 1
                        consent_id += 1
                done += size
                self.insert_rows(cursor, Consent, CONSENT_FIELDS, rows["consents"])
                self.insert_rows(cursor, Act, ACT_FIELDS, rows["acts"])
                self.insert_rows(cursor, TeleExpertise, TE_FIELDS, rows["te"])
                self.insert_rows(
                    cursor, Act.performers.through, PERFORMER_FIELDS, rows["performers"]
                )
                self.insert_rows(cursor, BillingCode, BILLING_FIELDS, rows["billing"])
                bar.update(size)
            for sql in connection.ops.sequence_reset_sql(no_style(), [Act, Consent]):
                cursor.execute(sql)
        return act_id

    def add(
        self, rows: dict, act_id: int, consent_id: int, specialty: str, sent: datetime.datetime
    ) -> bool:
        rng, adapt = self.rng, self.adapt
        site = rng.choice(self.requesting)
        experts = self.experts(specialty, site.dept)
        if not experts:
            return False
        filiere = self.filieres[specialty]
        requester, patient = rng.choice(site.requesters), rng.choice(site.patients)
        state, claimed_at, answered_at = self.course(sent)
        expert = rng.choice(experts)
        named = expert.user if rng.random() < 0.15 else None
        taken = claimed_at is not None
        due = sent + datetime.timedelta(days=filiere.answer_days)
        rows["consents"].append(
            (consent_id, patient, ActKind.TELEEXPERTISE.value, True,
             ConsentDecision.CONSENT.value, "", requester, site.structure, adapt(sent))
        )  # fmt: skip
        rows["acts"].append(
            (act_id, ActKind.TELEEXPERTISE.value, filiere.code, patient, requester,
             site.structure, site.team, expert.structure if taken else None,
             expert.team if taken else None, STATUS[state].value,
             consent_id, adapt(sent), adapt(sent), adapt(due),
             adapt(answered_at) if answered_at else None, "")
        )  # fmt: skip
        urgent = rng.random() < 0.1
        rows["te"].append(
            (act_id, QUESTIONS[specialty],
             (Urgency.URGENT if urgent else Urgency.NORMAL).value, json.dumps({}), state.value,
             named, expert.user if taken else None, adapt(claimed_at) if claimed_at else None,
             OPINION if answered_at else "", RECOMMENDATIONS if answered_at else "",
             self.need() if answered_at else "", adapt(answered_at) if answered_at else None, "")
        )  # fmt: skip
        if taken:
            rows["performers"].append((act_id, expert.user))
        if answered_at:
            when = adapt(answered_at)
            rows["billing"].append((act_id, "TE2", expert.user, True, "[]", when))
            rows["billing"].append((act_id, "RQD", requester, True, "[]", when))
        return True

    def need(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return ConsultationNeed.NONE.value
        if r < 0.85:
            return ConsultationNeed.ROUTINE.value
        return ConsultationNeed.SOON.value if r < 0.97 else ConsultationNeed.URGENT.value
