"""Booking rules, billing codes, the remote-activity cap, report and PDF, téléassistance."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from pypdf import PdfReader

from telesante.accounts.models import Profession, User
from telesante.acts.models import Act, ActStatus, Incident
from telesante.core import policy
from telesante.notifications.models import Notification
from telesante.patients.models import ActKind
from telesante.rooms import services as rooms
from telesante.rooms.models import CallSpan
from telesante.teleconsultation import billing, services
from telesante.teleconsultation.models import ActivityDeclaration, TeleConsultation
from tests.conftest import make_patient, make_user
from tests.rooms.conftest import TC, booking, in_call


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": "teleexpertise"}, "kind", "Type d'acte inconnu : téléconsultation ou télésoin."),
        ({"performer_id": 0}, "performer", "Choisissez le professionnel qui consulte à distance."),
        ({"scheduled_at": None}, "scheduled_at", "Indiquez la date et l'heure."),
        ({"reason": "  "}, "reason", "Indiquez le motif."),
        ({"duration_minutes": 300}, "duration_minutes", "Durée entre 5 et 120 minutes."),
        (
            {"assistance": "pharmacy"},
            "assistance",
            "Votre profession ne correspond pas à cet accompagnement.",
        ),
        ({"assistance": "drone"}, "assistance", "Accompagnement inconnu."),
        (
            {"information_given": False},
            "information_given",
            "Le patient doit être informé avant la réservation.",
        ),
        (
            {"decision": "refusal"},
            "decision",
            "Le patient refuse : l'acte ne peut pas être programmé. Son refus est enregistré.",
        ),
        ({"decision": ""}, "decision", "Indiquez si le patient consent."),
    ],
)
def test_booking_refuses_bad_input_in_french_and_saves_nothing(
    tc_world: TC, overrides, field, message
):
    before = Act.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create(
            None, tc_world.w.nurse_a, booking(tc_world.w, tc_world.cardiologist, **overrides)
        )
    assert exc.value.message_dict[field] == [message]
    assert Act.objects.count() == before


def test_profession_rules_of_each_kind(tc_world: TC):
    w = tc_world.w
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, booking(w, w.nurse_b, assistance=""))
    assert exc.value.message_dict["performer"] == [
        "Une téléconsultation est réalisée par un médecin."
    ]
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, booking(w, w.doctor_a, kind="telesoin", assistance=""))
    assert exc.value.message_dict["performer"] == [
        "Le télésoin est réservé aux pharmaciens et aux auxiliaires médicaux."
    ]
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, booking(w, w.nurse_b, kind="telesoin"))
    assert exc.value.message_dict["assistance"] == [
        "L'accompagnement concerne la téléconsultation."
    ]
    past = timezone.now() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, booking(w, w.doctor_a, scheduled_at=past))
    assert exc.value.message_dict["scheduled_at"] == ["La date est passée."]


def test_booking_goes_through_the_wall(tc_world: TC):
    w = tc_world.w
    with pytest.raises(Http404):  # patient of another structure
        services.create(
            None, w.nurse_b, booking(w, tc_world.cardiologist, structure_id=w.ehpad_b.pk)
        )
    with pytest.raises(PermissionDenied):
        services.create(None, w.observer, booking(w, tc_world.cardiologist))
    # The cardiologist of another structure now sees the patient, as a party to the act.
    assert policy.visible_patients(tc_world.cardiologist).filter(pk=w.patient_a.pk).exists()
    act = tc_world.consultation.act
    assert act.status == ActStatus.SCHEDULED and act.consent.act_kind == ActKind.TELECONSULTATION
    assert tc_world.consultation.prescriber == tc_world.cardiologist
    assert len(tc_world.room.slug) >= 24


def _finish(tc: TeleConsultation, doctor) -> TeleConsultation:
    in_call(tc, doctor)
    return services.save_report(None, doctor, tc, "Auscultation normale.", "Furosémide 40 mg", True)


def test_an_ehpad_resident_without_a_medecin_traitant_sees_a_specialist(tc_world: TC):
    # EHPAD residents are an exception to the parcours de soins (REGULATORY.md): no médecin
    # traitant is asked before a specialist's téléconsultation, and the specialist bills TC.
    w = tc_world.w
    assert w.patient_a.gp is None and w.ehpad_a.kind == "ehpad"
    tc = services.create(None, w.nurse_a, booking(w, tc_world.cardiologist))
    done = _finish(tc, tc_world.cardiologist)
    assert done.act.billing_codes.get(code="TC").professional == tc_world.cardiologist


@pytest.mark.parametrize(
    ("specialty", "assistance", "assistant_profession", "codes"),
    [
        ("cardiologie", "nurse_visit", Profession.NURSE, ["TC", "TLS"]),
        ("medecine_generale", "nurse_site", Profession.NURSE, ["TCG", "TLL"]),
        ("medecine_generale", "nurse_home", Profession.IPA, ["TCG", "TLD"]),
        ("cardiologie", "pharmacy", Profession.PHARMACIST, ["TC", "TLM"]),
        ("cardiologie", "", Profession.SECRETARY, ["TC"]),
    ],
)
def test_billing_codes_of_the_doctor_and_the_assisting_professional(
    tc_world: TC, specialty, assistance, assistant_profession, codes
):
    w = tc_world.w
    doctor = make_user(
        f"{specialty}.{assistance}@example.test",
        structure=w.ehpad_b,
        profession=Profession.DOCTOR,
        specialty=specialty,
    )
    assistant = make_user(
        f"aide.{assistance}@example.test", structure=w.ehpad_a, profession=assistant_profession
    )
    tc = services.create(None, assistant, booking(w, doctor, assistance=assistance))
    done = _finish(tc, doctor)
    found = {c.code: c for c in done.act.billing_codes.all()}
    assert sorted(found) == codes
    for code, c in found.items():
        assert c.professional == (doctor if code.startswith("TC") else assistant)
    if assistance:
        assert found[codes[1]].warnings == [f"Prescripteur : {doctor.display_name}."]


def test_telesoin_nurse_bills_tmi(tc_world: TC):
    w = tc_world.w
    new = booking(w, w.nurse_b, kind="telesoin", assistance="", video_suitable=True)
    done = _finish(services.create(None, w.nurse_a, new), w.nurse_b)
    assert list(done.act.billing_codes.values_list("code", flat=True)) == ["TMI"]


@pytest.mark.parametrize(
    ("kind", "profession", "specialty", "code"),
    [
        (ActKind.TELECONSULTATION, Profession.DOCTOR, "medecine_generale", "TCG"),
        (ActKind.TELECONSULTATION, Profession.DOCTOR, "cardiologie", "TC"),
        (ActKind.TELECONSULTATION, Profession.NURSE, "", None),  # not a doctor: no TC
        (ActKind.TELESOIN, Profession.DOCTOR, "cardiologie", None),  # not a téléconsultation
        (ActKind.TELEASSISTANCE, Profession.DOCTOR, "medecine_generale", None),
        (ActKind.TELESOIN, Profession.NURSE, "", "TMI"),
        (ActKind.TELESOIN, Profession.IPA, "", "TMI"),
        (ActKind.TELESOIN, Profession.PHYSIO, "", None),  # TMI is the nurses' code
        (ActKind.TELECONSULTATION, Profession.IPA, "", None),
    ],
)
def test_the_performer_code_needs_both_the_act_kind_and_the_profession(
    kind, profession, specialty, code
):
    tc = TeleConsultation(act=Act(kind=kind))
    performer = User(email="p@example.test", profession=profession, specialty=specialty)
    assert billing.performer_code(tc, performer) == code


def test_the_cap_counts_the_done_acts_only_and_shows_the_cap_set(tc_world: TC, settings):
    doctor, year = tc_world.cardiologist, timezone.localdate().year
    settings.TELESANTE_REMOTE_CAP, settings.TELESANTE_REMOTE_CAP_WARN = 0.6, 0.05
    assert billing.cap_warnings(doctor) == [
        f"Activité {year} non déclarée : le plafond de 60 % d'activité à distance ne peut pas "
        "être vérifié."
    ]
    ActivityDeclaration.objects.create(professional=doctor, year=year, total_acts=10)
    act = _finish(tc_world.consultation, doctor).act
    near = f"Proche du plafond : 10.0 % de l'activité {year} à distance (plafond 60 %)."
    assert billing.cap_warnings(doctor) == [near]
    # Closed « non réalisé » with its date kept: not a remote act done.
    Act.objects.filter(pk=act.pk).update(status=ActStatus.NOT_DONE)
    assert billing.cap_warnings(doctor) == []


def test_remote_activity_cap_is_warned(tc_world: TC):
    doctor, year = tc_world.cardiologist, timezone.localdate().year
    assert billing.cap_warnings(doctor)[0].startswith(f"Activité {year} non déclarée")
    ActivityDeclaration.objects.create(professional=doctor, year=year, total_acts=10)
    assert billing.cap_warnings(doctor) == []
    tc = _finish(tc_world.consultation, doctor)
    # 1 remote act of 10 declared (this one counts): 10 %, under the 18 % warning line.
    assert tc.act.billing_codes.get(code="TC").warnings == []
    _finish(services.create(None, tc_world.w.nurse_a, booking(tc_world.w, doctor)), doctor)
    assert billing.cap_warnings(doctor) == [
        f"Proche du plafond : 20.0 % de l'activité {year} à distance (plafond 20 %)."
    ]
    last = _finish(services.create(None, tc_world.w.nurse_a, booking(tc_world.w, doctor)), doctor)
    assert billing.cap_warnings(doctor) == [
        f"Plafond dépassé : 30.0 % de l'activité {year} à distance (plafond 20 %)."
    ]
    assert last.act.billing_codes.get(code="TC").warnings == [
        f"Plafond dépassé : 30.0 % de l'activité {year} à distance (plafond 20 %)."
    ]


def test_report_pdf_holds_identity_report_codes_and_incidents(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    tc.act.patient.gp = tc_world.w.doctor_a
    tc.act.patient.save()
    with pytest.raises(PermissionDenied):
        services.save_report(None, tc_world.w.nurse_a, tc, "Pas moi", finish=True)
    with pytest.raises(ValidationError) as exc:
        services.save_report(None, doctor, tc, "  ", finish=True)
    assert exc.value.message_dict == {"report_text": ["Rédigez le compte rendu avant de clore."]}
    services.add_incident(None, tc_world.w.nurse_a, tc, "Image figée 20 secondes")
    with pytest.raises(ValidationError):
        services.add_incident(None, tc_world.w.nurse_a, tc, " ")
    rooms.incident(tc_world.room, "Coupure de la connexion de Nurse.a Test.")
    services.save_report(None, doctor, tc, "Brouillon")
    assert Act.objects.get(pk=tc.pk).status == ActStatus.SCHEDULED
    done = _finish(tc, doctor)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(done.act.report.read())).pages)
    for expected in (
        "DORVANE",
        "Auscultation normale.",
        "Furosémide 40 mg",
        "TC (",
        "TLS (",
        "Image figée",
        "Coupure de la connexion",
    ):
        assert expected in text
    assert Incident.objects.filter(act=done.act, automatic=True).count() == 1
    # The requester and the médecin traitant are told.
    told = Notification.objects.filter(act=done.act).values_list("user_id", flat=True)
    assert sorted(told) == sorted([tc_world.w.nurse_a.pk, tc_world.w.doctor_a.pk])
    # The prescriptions are a document of their own in the record.
    rx = done.act.attachments.get(field="ordonnance")
    assert rx.content_type == "application/pdf" and rx.uploaded_by == doctor
    rx_text = PdfReader(io.BytesIO(rx.file.read())).pages[0].extract_text()
    assert "Ordonnance" in rx_text and "Furosémide 40 mg" in rx_text and "DORVANE" in rx_text
    assert (
        rooms.claim_still_valid(
            rooms.user_claim(doctor, tc_world.room)
            or rooms.tokens.Claim(tc_world.room.slug, f"u:{doctor.pk}", "x", True)
        )
        is None
    )
    with pytest.raises(ValidationError) as exc:
        services.save_report(None, doctor, Act.objects.get(pk=tc.pk).teleconsultation, "Encore")
    assert exc.value.message_dict == {"__all__": ["L'acte est clos."]}


def test_teleassistance_brings_an_expert_into_the_same_room(tc_world: TC):
    w, doctor = tc_world.w, tc_world.cardiologist
    expert = make_user(
        "rythmo@example.test",
        structure=w.ehpad_b,
        profession=Profession.DOCTOR,
        specialty="cardiologie",
    )
    assert rooms.user_claim(expert, tc_world.room) is None
    with pytest.raises(PermissionDenied):
        services.assist(None, w.nurse_a, tc_world.consultation, expert.pk)
    with pytest.raises(ValidationError):
        services.assist(None, doctor, tc_world.consultation, w.nurse_b.pk)
    ta = services.assist(None, doctor, tc_world.consultation, expert.pk)
    assert ta.act.kind == ActKind.TELEASSISTANCE and ta.assists == tc_world.consultation.act
    assert services.room_of(ta) == tc_world.room
    assert rooms.user_claim(expert, tc_world.room).host is True
    assert policy.visible_acts(expert).filter(pk=tc_world.consultation.pk).exists()
    assert policy.visible_patients(expert).filter(pk=w.patient_a.pk).exists()
    # The expert writes in their own act, not in the colleague's.
    with pytest.raises(PermissionDenied):
        services.save_report(None, expert, tc_world.consultation, "Avis de l'expert")
    # In the assisted act's room with the patient's side: the expert's act is done.
    in_call(tc_world.consultation, expert)
    services.save_report(None, expert, ta, "Avis rythmologique : pas de pause.", finish=True)
    assert ta.act.status == ActStatus.DONE and ta.act.report and ta.video_seconds >= 300


def test_physiotherapy_telesoin_rules(tc_world: TC):
    w = tc_world.w
    physio = make_user("kine@example.test", structure=w.ehpad_b, profession=Profession.PHYSIO)
    child = make_patient(w.ehpad_a, "QUERNEL", "Lou", birth_date="2015-06-01")
    fields = {"kind": "telesoin", "assistance": "", "patient_id": child.pk, "video_suitable": True}
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, booking(w, physio, initial_assessment=True, **fields))
    assert exc.value.message_dict == {
        "initial_assessment": ["Le bilan initial de kinésithérapie se fait en présence."],
        "seen_in_person_this_year": [
            "Un acte en présence dans les 12 derniers mois est requis avant le télésoin."
        ],
        "adult_present": ["Un patient mineur est accompagné d'un adulte."],
    }
    ok = booking(w, physio, seen_in_person_this_year=True, adult_present=True, **fields)
    assert services.create(None, w.nurse_a, ok).act.kind == ActKind.TELESOIN


# Billing only what happened (REGULATORY.md § Téléconsultation: video required).


def test_a_teleconsultation_with_no_video_session_bills_nothing(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    services.save_report(None, doctor, tc, "Patient non vu.", finish=True)
    tc.refresh_from_db()
    assert tc.act.status == ActStatus.NOT_DONE
    assert tc.not_done_reason == (
        "aucune séance vidéo commune entre le patient et le professionnel"
    )
    assert tc.video_seconds == 0
    assert not tc.act.billing_codes.exists()
    assert not tc.act.report
    assert tc_world.room.__class__.objects.get(pk=tc_world.room.pk).closed_at is not None
    assert Notification.objects.filter(
        user=tc_world.w.nurse_a, text__startswith=f"Acte n° {tc.pk} non réalisé"
    ).exists()


def test_each_side_alone_in_the_room_is_no_session(tc_world: TC):
    """The performer, then the patient's side, each alone in the room: nothing together."""
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    room = tc_world.room
    peer, _r, _b = rooms.join(room, rooms.user_claim(doctor, room), "c1")
    rooms.leave(room.pk, peer.peer_id, dropped=False)
    side, _r, _b = rooms.join(room, rooms.user_claim(tc_world.w.nurse_a, room), "c2")
    rooms.admit(room.pk, side.peer_id)  # admitted after the doctor left
    assert rooms.together_seconds(tc.act, doctor) == 0
    services.save_report(None, doctor, tc, "RAS", finish=True)
    assert Act.objects.get(pk=tc.pk).status == ActStatus.NOT_DONE


def test_together_in_the_call_bills_and_keeps_the_duration(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    in_call(tc, doctor, seconds=600)
    services.save_report(None, doctor, tc, "Auscultation normale.", finish=True)
    tc.refresh_from_db()
    assert tc.act.status == ActStatus.DONE
    assert 600 <= tc.video_seconds < 660
    assert sorted(tc.act.billing_codes.values_list("code", flat=True)) == ["TC", "TLS"]
    # Closing ends the spans: the duration no longer grows.
    assert not CallSpan.objects.filter(room=tc_world.room, ended_at=None).exists()


def test_a_guest_patient_at_home_is_the_patient_side(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    room = tc_world.room
    guest = rooms.create_guest_link(None, doctor, room, "Alix D.", "patient")
    interpreter = rooms.create_guest_link(None, doctor, room, "Interprète", "interprete")
    rooms.join(room, rooms.user_claim(doctor, room), "c1")
    only_interpreter, _r, _b = rooms.join(room, rooms.guest_claim(interpreter), "c2")
    rooms.admit(room.pk, only_interpreter.peer_id)
    assert rooms.together_seconds(tc.act, doctor) == 0  # an interpreter is not the patient
    at_home, _r, _b = rooms.join(room, rooms.guest_claim(guest), "c3")
    rooms.admit(room.pk, at_home.peer_id)
    CallSpan.objects.filter(peer_id=at_home.peer_id).update(
        started_at=timezone.now() - datetime.timedelta(seconds=90)
    )
    CallSpan.objects.exclude(peer_id=at_home.peer_id).update(
        started_at=timezone.now() - datetime.timedelta(seconds=300)
    )
    assert 90 <= rooms.together_seconds(tc.act, doctor) < 100


def test_the_performer_closes_not_done_with_a_reason_after_an_incident(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    with pytest.raises(PermissionDenied):
        services.not_done(None, tc_world.w.nurse_a, tc, "Absent")
    with pytest.raises(ValidationError) as exc:
        services.not_done(None, doctor, tc, "  ")
    assert exc.value.message_dict == {"reason": ["Indiquez pourquoi l'acte n'a pas eu lieu."]}
    services.add_incident(None, doctor, tc, "Pas de son côté EHPAD")
    services.not_done(None, doctor, tc, "Panne de la caméra de l'EHPAD")
    tc.refresh_from_db()
    assert (tc.act.status, tc.not_done_reason) == (
        ActStatus.NOT_DONE,
        "Panne de la caméra de l'EHPAD",
    )
    assert not tc.act.billing_codes.exists()
    assert list(tc.act.incidents.values_list("description", flat=True)) == ["Pas de son côté EHPAD"]
    with pytest.raises(ValidationError):  # closed
        services.save_report(None, doctor, tc, "RAS", finish=True)


def test_a_failed_session_is_moved_instead_while_programmed(tc_world: TC):
    from telesante.teleconsultation import booking as booking_rules

    doctor, tc = tc_world.cardiologist, tc_world.consultation
    services.add_incident(None, doctor, tc, "Connexion impossible")
    later = timezone.now() + datetime.timedelta(days=3)
    booking_rules.move(None, doctor, tc, later)
    tc.refresh_from_db()
    assert tc.scheduled_at == later and tc.act.status == ActStatus.SCHEDULED


def test_a_refusal_typed_at_booking_is_kept_on_the_patient(tc_world: TC):
    from telesante.patients.models import Consent

    w = tc_world.w
    before = Act.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, booking(w, tc_world.cardiologist, decision="refusal"))
    assert "Son refus est enregistré" in exc.value.message_dict["decision"][0]
    assert Act.objects.count() == before
    refusal = Consent.objects.get(patient=w.patient_a, decision="refusal")
    assert (refusal.act_kind, refusal.collected_by, refusal.structure) == (
        ActKind.TELECONSULTATION,
        w.nurse_a,
        w.ehpad_a,
    )
    # Not informed: nothing can be recorded, the refusal neither.
    with pytest.raises(ValidationError):
        services.create(
            None,
            w.nurse_a,
            booking(w, tc_world.cardiologist, decision="refusal", information_given=False),
        )
    assert Consent.objects.filter(decision="refusal").count() == 1


# Reports that reach the médecin traitant.


def test_the_medecin_traitant_outside_the_structure_reads_the_report(tc_world: TC):
    from telesante.core.models import AuditAction, AuditEntry
    from tests.conftest import make_structure

    w, doctor, tc = tc_world.w, tc_world.cardiologist, tc_world.consultation
    cabinet = make_structure("Cabinet du Bourg", finess="530000047")
    gp = make_user("mt@example.test", structure=cabinet, profession=Profession.DOCTOR)
    w.patient_a.gp = gp
    w.patient_a.save()
    tc.act.patient.refresh_from_db()
    # Before the act is done the médecin traitant does not see it.
    assert not policy.visible_acts(gp).filter(pk=tc.pk).exists()
    _finish(tc, doctor)
    assert Notification.objects.filter(user=gp, act=tc.act).exists()
    read = services.get(None, gp, tc.pk)
    assert read.report_text == "Auscultation normale."
    assert AuditEntry.objects.filter(
        actor_id=gp.pk, action=AuditAction.READ, object_id=str(tc.pk)
    ).exists()
    assert policy.visible_patients(gp).filter(pk=w.patient_a.pk).exists()
    # Only the acts of their patients: another patient's act stays a 404.
    other = services.create(
        None,
        w.nurse_a,
        booking(w, doctor, patient_id=make_patient(w.ehpad_a, birth_name="LOUVEAU").pk),
    )
    _finish(other, doctor)
    with pytest.raises(Http404):
        services.get(None, gp, other.pk)
    # Nor is the médecin traitant a party to the room.
    assert policy.act_role(gp, tc.act) is None


def test_the_cap_reads_this_professionals_declaration_of_the_year(tc_world: TC, settings):
    doctor, year = tc_world.cardiologist, timezone.localdate().year
    ActivityDeclaration.objects.create(professional=tc_world.w.doctor_a, year=year, total_acts=9)
    ActivityDeclaration.objects.create(professional=doctor, year=year - 1, total_acts=9)
    assert billing.cap_warnings(doctor) == [
        f"Activité {year} non déclarée : le plafond de 20 % d'activité à distance "
        "ne peut pas être vérifié."
    ]
    ActivityDeclaration.objects.create(professional=doctor, year=year, total_acts=1)
    assert billing.cap_warnings(doctor) == []


def test_the_cap_counts_this_years_remote_acts_done_by_the_professional(tc_world: TC, settings):
    doctor, w = tc_world.cardiologist, tc_world.w
    year = timezone.localdate().year
    ActivityDeclaration.objects.create(professional=doctor, year=year, total_acts=3)
    settings.TELESANTE_REMOTE_CAP, settings.TELESANTE_REMOTE_CAP_WARN = 0.5, 1 / 3
    now = timezone.now()

    def act(kind=ActKind.TELECONSULTATION, status=ActStatus.DONE, done_at=now, by=doctor):
        a = Act.objects.create(
            kind=kind, patient=w.patient_a, requester=w.nurse_a,
            requesting_structure=w.ehpad_a, status=status, done_at=done_at,
        )  # fmt: skip
        a.performers.add(by)

    act(status=ActStatus.SCHEDULED, done_at=None)
    act(done_at=now.replace(year=year - 1))
    act(kind=ActKind.TELESURVEILLANCE)
    act(by=w.doctor_a)
    assert billing.cap_warnings(doctor) == []
    act()
    assert billing.cap_warnings(doctor) == [
        f"Proche du plafond : 33.3 % de l'activité {year} à distance (plafond 50 %)."
    ]
