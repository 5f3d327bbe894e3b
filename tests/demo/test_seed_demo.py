"""The demo region (`telesante seed-demo`), its named logins and their on-screen second factor.

The region is seeded once for the module, in a transaction rolled back at the end: each test
runs in a savepoint inside it, so nothing leaks to the other modules. Its télé-expertise
history is a tenth of the demo's (ACTS): the same code writes and rolls up the acts, whatever
their number.
"""

import datetime
import io
import json
import re
from collections import Counter

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db.models import F, Q
from django.test import Client, override_settings
from django.utils import timezone

from telesante.accounts.models import Membership, MembershipRole, RegionalRole, User
from telesante.acts.models import Act, BillingCode
from telesante.core.identifiers import validate_finess, validate_matricule, validate_rpps
from telesante.demo import history, monitoring, seeding
from telesante.patients.models import (
    ActKind,
    AttachmentKind,
    IdentityStatus,
    Patient,
    PatientAttachment,
)
from telesante.patients.services import search_key
from telesante.structures.models import (
    Commune,
    Country,
    DeploymentStatus,
    Equipment,
    Structure,
    StructureKind,
)
from telesante.teleexpertise.models import State, TeleExpertise
from telesante.telesurveillance import alerts
from telesante.telesurveillance.models import Alert, Enrolment, Forfait, Measurement
from tests.conftest import TEST_SETTINGS, kept_rows, make_user, totp_now

LOGIN = "/compte/login/"
TOTP_STEP = "/compte/2fa/authenticate/"
FILIERES = {"cardiologie", "geriatrie", "dermatologie", "psychiatrie", "plaies_cicatrisation"}
ACTS = 2_000  # history.BASE_ACTS while the region is seeded here


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, kept_rows(django_db_blocker):
        patch.setattr(history, "BASE_ACTS", ACTS)
        with django_db_blocker.unblock(), override_settings(DEMO=True, **TEST_SETTINGS):
            call_command("seed_demo", verbosity=0, stdout=out)
        yield out.getvalue()


@pytest.fixture
def demo(seeded, db, settings):
    settings.DEMO = True
    cache.clear()  # rate limits and used TOTP codes
    return seeded


def counts() -> dict[str, int]:
    return {
        "structures": Structure.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "patients": Patient.objects.count(),
        "attachments": PatientAttachment.objects.count(),
    }


def test_structures_follow_the_two_projects(demo):
    assert "Structures : 90" in demo
    ehpad53 = Structure.objects.filter(kind=StructureKind.EHPAD, departement_id="53")
    assert ehpad53.count() == 60
    status = Counter(ehpad53.values_list("deployment_status", flat=True))
    assert status == {
        DeploymentStatus.DEPLOYED: 50,
        DeploymentStatus.IN_PROGRESS: 9,
        DeploymentStatus.PLANNED: 1,
    }
    today = datetime.date.today()
    for s in ehpad53:
        if s.deployment_status == DeploymentStatus.DEPLOYED:
            assert s.deployment_planned_on < s.deployment_started_on < s.deployed_on
            assert s.deployed_on <= datetime.date(2022, 6, 30)
            assert Equipment.CART in s.equipment and Equipment.ECG in s.equipment
        elif s.deployment_status == DeploymentStatus.IN_PROGRESS:
            assert s.deployment_planned_on < s.deployment_started_on <= today
            assert s.deployed_on is None and Equipment.CART in s.equipment
        else:
            assert s.deployment_planned_on > today and s.deployment_started_on is None

    def kinds(dept: str) -> Counter:
        return Counter(Structure.objects.filter(departement_id=dept).values_list("kind", flat=True))

    mayenne = kinds("53")
    assert mayenne[StructureKind.CH] == 4
    assert mayenne[StructureKind.SAMU] == 1 and mayenne[StructureKind.PHARMACY] == 1
    assert mayenne[StructureKind.MSP] >= 3
    assert Structure.objects.filter(name="Pôle d'expertises du CH d'Ernée", kind="ch").exists()
    assert kinds("72") == {
        StructureKind.CH: 1,
        StructureKind.EHPAD: 8,
        StructureKind.MSP: 3,
        StructureKind.CABINET: 1,
        StructureKind.CDS: 2,
        StructureKind.FAM_MAS: 1,
    }
    assert Structure.objects.get(kind=StructureKind.CH, departement_id="72").commune_id == "72181"
    assert Structure.objects.get(name="CHU d'Angers").departement_id == "49"
    assert Structure.objects.get(name="CHU de Nantes").departement_id == "44"

    finess = list(Structure.objects.values_list("finess", "departement_id", "commune_id"))
    assert len({f for f, _d, _c in finess}) == len(finess) == 90
    communes = dict(Commune.objects.values_list("code", "departement_id"))
    for number, dept, commune in finess:
        validate_finess(number)
        assert number.startswith(dept) and communes[commune] == dept
    for s in Structure.objects.all():
        assert s.apl is not None
        assert s.underserved == (s.apl <= 2.5)  # TELESANTE_APL_UNDERSERVED


def test_professionals(demo):
    users = User.objects.all()
    assert 600 <= users.count() <= 700
    assert all(u.email.endswith("@demo.telesante.test") for u in users)
    rpps = [r for r in users.values_list("rpps", flat=True) if r]
    assert len(rpps) == len(set(rpps)) >= 600
    for number in rpps:
        validate_rpps(number)
    assert {u.email for u in users if u.has_usable_password()} == {
        login.email for login in seeding.DEMO_LOGINS
    }
    # Every priority filière has experts in the Mayenne hospitals and at the CHU.
    for kind, dept in ((StructureKind.CH, "53"), (StructureKind.CHU, "49")):
        experts = users.filter(
            memberships__structure__kind=kind, memberships__structure__departement_id=dept
        )
        assert set(experts.values_list("specialty", flat=True)) >= FILIERES
    # Every deployed EHPAD has nurses and an administrator.
    for ehpad in Structure.objects.filter(kind="ehpad", deployment_status="deployed"):
        members = ehpad.memberships.all()
        assert members.filter(user__profession="infirmier").count() >= 4
        assert members.filter(role=MembershipRole.ADMIN).exists()


def test_patients(demo):
    residents = PatientAttachment.objects.filter(
        kind=AttachmentKind.RESIDENT, structure__kind=StructureKind.EHPAD
    )
    assert residents.count() == 2000
    assert residents.filter(structure__deployment_status=DeploymentStatus.PLANNED).count() == 0
    assert PatientAttachment.objects.filter(
        kind=AttachmentKind.PATIENT, structure__kind=StructureKind.MSP
    ).exists()
    assert not Patient.objects.filter(attachments__isnull=True).exists()

    places = set(Commune.objects.values_list("code", flat=True))
    places |= set(Country.objects.values_list("code", flat=True))
    today = datetime.date.today()
    qualified = 0
    for p in Patient.objects.filter(attachments__structure__kind="ehpad").select_related("gp"):
        assert p.search_key == search_key(p)
        assert p.birthplace_code in places
        assert 65 <= (today - p.birth_date).days / 365.25 <= 105
        assert p.gp is None or p.gp.specialty == "medecine_generale"
        if p.identity_status == IdentityStatus.QUALIFIED:
            qualified += 1
            assert p.matricule_kind == "TEST"
            validate_matricule(p.matricule, p.sex)
            assert p.matricule[0] == {"M": "1", "F": "2"}[p.sex]
        else:
            assert p.matricule == ""
    assert 500 <= qualified <= 1500
    assert Patient.objects.filter(gp__isnull=False).count() > 1500


def test_teleexpertise_history(demo):
    acts = Act.objects.filter(kind=ActKind.TELEEXPERTISE)
    # The history, and the one answered today whose report the outbox sends.
    assert acts.count() == ACTS + 1
    assert re.search(r"Télé-expertises : 2\u202f001 sur trois ans, dont \d+", demo)
    states = Counter(TeleExpertise.objects.values_list("state", flat=True))
    assert states[State.ANSWERED] > 0.9 * ACTS
    assert states[State.POOLED] > 0 and states[State.CLAIMED] > 0, states
    oldest = acts.order_by("requested_at").first().requested_at
    sent = list(acts.order_by("pk").values_list("requested_at", flat=True))
    assert sent == sorted(sent)  # ids follow time, as in real use
    assert timezone.now() - oldest <= datetime.timedelta(days=history.HISTORY_DAYS + 1)
    # Every act is about a patient of the requesting site, asked by one of its members.
    stray = acts.exclude(
        patient__attachments__structure=F("requesting_structure"),
        requester__memberships__structure=F("requesting_structure"),
    )
    assert not stray.exists()
    assert not acts.exclude(consent__patient=F("patient")).exists()
    # Answered requests carry the expert's answer and both codes; open ones none.
    answered = TeleExpertise.objects.filter(state=State.ANSWERED)
    assert not answered.filter(Q(answered_at__isnull=True) | Q(opinion="")).exists()
    assert not answered.exclude(act__performers=F("claimed_by")).exists()
    te_codes = BillingCode.objects.filter(act__kind=ActKind.TELEEXPERTISE)
    codes = Counter(te_codes.values_list("code", flat=True))
    assert codes == {"TE2": answered.count(), "RQD": answered.count()}
    assert not te_codes.exclude(act__teleexpertise__state=State.ANSWERED).exists()
    assert not TeleExpertise.objects.filter(state=State.POOLED, claimed_by__isnull=False).exists()
    # The expert came from the filière's specialty.
    assert (
        not acts.filter(performers__isnull=False)
        .exclude(performers__specialty=F("filiere__specialty"))
        .exists()
    )


def test_second_run_changes_nothing(demo):
    before = counts()
    out = io.StringIO()
    call_command("seed_demo", verbosity=0, stdout=out)
    assert "déjà chargée" in out.getvalue()
    assert counts() == before


def test_scale_multiplies_patients_and_the_seed_fixes_the_region(demo):
    def planned(seed: int, scale: int) -> tuple[list, int]:
        seeder = seeding.Seeder(seed, scale, progress=False)
        seeder.load_communes()
        seeder.define_sites()
        sites = [(s.name, s.commune, s.status) for s in seeder.sites.values()]
        return sites, len(list(seeder.plan_patients()))

    sites, base = planned(seeding.DEFAULT_SEED, 1)
    # The plan, and the two identities of the INSi demonstration.
    assert base + len(seeding.INSI_DEMO) == Patient.objects.count() == 2342
    assert planned(seeding.DEFAULT_SEED, 3) == (sites, 3 * base)
    assert planned(7, 1)[0] != sites
    with pytest.raises(CommandError, match="--scale"):
        call_command("seed_demo", "--scale", "0", verbosity=0)


def test_refused_outside_demo_mode(seeded, db, settings):
    settings.DEMO = False
    for command in ("seed_demo", "demo_accounts"):
        with pytest.raises(CommandError, match="mode démonstration"):
            call_command(command, verbosity=0)


def test_demo_accounts(demo):
    out = io.StringIO()
    call_command("demo_accounts", "--json", stdout=out)
    accounts = json.loads(out.getvalue())
    keys = {"email", "password", "role", "profession", "specialty", "structure", "totp_secret"}
    assert all(set(a) - {"devices"} == keys for a in accounts)
    roles = Counter(a["role"] for a in accounts)
    assert {"nurse", "expert", "gp", "pharmacist", "structure_admin", "observer"} <= set(roles)
    assert "regional_admin" in roles
    experts = [a for a in accounts if a["role"] == "expert"]
    assert sorted(a["specialty"] for a in experts) == sorted(FILIERES)
    assert all(a["password"] == seeding.DEMO_PASSWORD for a in accounts)
    assert all(a["totp_secret"] == seeding.DEMO_TOTP_SECRET for a in accounts)

    by_role: dict[str, dict] = {}
    for a in accounts:
        by_role.setdefault(a["role"], a)  # the first nurse works in Mayenne
    nurse = User.objects.get(email=by_role["nurse"]["email"])
    assert nurse.is_demo and nurse.profession == "infirmier"
    ehpad = nurse.memberships.get().structure
    assert ehpad.kind == "ehpad" and ehpad.departement_id == "53"
    assert by_role["nurse"]["structure"] == ehpad.name
    admin = User.objects.get(email=by_role["structure_admin"]["email"])
    assert admin.memberships.get().role == MembershipRole.ADMIN
    observer = User.objects.get(email=by_role["observer"]["email"])
    assert observer.regional_role == RegionalRole.OBSERVER
    assert not observer.memberships.exists() and by_role["observer"]["structure"] is None
    region = User.objects.get(email=by_role["regional_admin"]["email"])
    assert region.regional_role == RegionalRole.ADMIN and region.is_staff and region.is_superuser
    totp = Authenticator.objects.filter(type=Authenticator.Type.TOTP)
    assert totp.filter(user__is_demo=True).count() == len(accounts) == len(seeding.DEMO_LOGINS)

    text = io.StringIO()
    call_command("demo_accounts", stdout=text)
    assert by_role["nurse"]["email"] in text.getvalue()
    assert "Mode démonstration" in text.getvalue()


def test_monitoring_operator_devices_and_history(demo):
    out = io.StringIO()
    call_command("demo_accounts", "--json", stdout=out)
    operator = next(a for a in json.loads(out.getvalue()) if a["role"] == "monitoring_operator")
    assert operator["structure"] == "Centre hospitalier de Laval"
    devices = operator["devices"]
    assert len(devices) == len({d["serial"] for d in devices}) >= 8
    assert {d["programme"] for d in devices} >= {"insuffisance_cardiaque", "diabete"}
    user = User.objects.get(email=operator["email"])
    board = list(alerts.board(user))
    assert len(board) == len(monitoring.PLAN)
    assert board[0].worst == 4  # the low SpO2 first
    assert {a.rule for a in Alert.objects.all()} >= {"spo2:below", "weight:rise", "missing"}
    assert Measurement.objects.count() > 1000
    # The worker's work over the 45 days: the poor adherence flagged, each month over billed.
    assert Enrolment.objects.exclude(adherence_flag="").count() >= 1
    start = timezone.localdate() - datetime.timedelta(days=monitoring.HISTORY_DAYS)
    today = timezone.localdate()
    months_over = (today.year - start.year) * 12 + today.month - start.month
    assert Forfait.objects.count() == len(monitoring.PLAN) * months_over >= len(monitoring.PLAN)
    assert not Forfait.objects.exclude(act__billing_codes__code="TSF").exists()
    # On the MSP GP's prescription, under the CH's cardiologist, who performs and bills each month.
    gp, cardiologist = (
        User.objects.get(email=f"{local}@{seeding.DEMO_DOMAIN}")
        for local in ("medecin.generaliste", "expert.cardiologie")
    )
    assert set(
        Enrolment.objects.values_list(
            "prescriber", "operator", "team__structure__name", "team__name"
        )
    ) == {(gp.pk, cardiologist.pk, operator["structure"], seeding.MONITORING_TEAM)}
    assert cardiologist.memberships.filter(team__name=seeding.MONITORING_TEAM).exists()
    assert set(
        Forfait.objects.values_list("act__performers", "act__billing_codes__professional")
    ) == {(cardiologist.pk, cardiologist.pk)}
    scale = next(d for d in devices if d["serial"].startswith("DEMO-SC-"))
    client = Client(headers={"Authorization": f"Bearer {scale['token']}"})
    sent = client.post(
        "/api/v1/telesurveillance/measurements",
        {
            "measurements": [
                {
                    "id": "demo-1",
                    "device": scale["serial"],
                    "type": "weight",
                    "value": 80,
                    "unit": "kg",
                    # Within the demo monitoring (readings before its start are refused).
                    "at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
                }
            ]
        },
        content_type="application/json",
    )
    assert sent.json()["accepted"] == 1, sent.json()


def totp_page(email: str, password: str = seeding.DEMO_PASSWORD) -> tuple[Client, str]:
    client = Client()
    response = client.post(LOGIN, {"login": email, "password": password})
    assert response["Location"] == TOTP_STEP
    return client, client.get(TOTP_STEP).content.decode()


def test_demo_mode_shows_the_code_of_a_demo_account(demo):
    email = seeding.DEMO_LOGINS[0].email
    totp = pyotp.TOTP(seeding.DEMO_TOTP_SECRET)
    before = totp_now(seeding.DEMO_TOTP_SECRET, margin=5.0)  # read and posted in one window
    client, html = totp_page(email)
    assert "Mode démonstration" in html
    code = re.search(r'class="demo-totp-code">(\d{6})<', html).group(1)
    assert code in {before, totp.now()}
    assert client.post(TOTP_STEP, {"code": code})["Location"] == "/"


def test_no_code_for_other_accounts_or_outside_demo_mode(demo, settings):
    # An ordinary account, in demo mode.
    make_user("ordinaire@example.test")
    _client, html = totp_page("ordinaire@example.test", "Motdepasse-solide-2026")
    assert "demo-totp" not in html

    settings.DEMO = False
    _client, html = totp_page(seeding.DEMO_LOGINS[0].email)
    assert 'name="code"' in html  # the ordinary code form
    assert "demo-totp" not in html and "Mode démonstration" not in html


def test_demo_teleconsultations_are_booked_with_their_rooms(demo):
    from telesante.teleconsultation.models import TeleConsultation

    nurse = User.objects.get(email=f"infirmiere@{seeding.DEMO_DOMAIN}")
    booked = TeleConsultation.objects.filter(act__requester=nurse).select_related("act__room")
    assert booked.count() == seeding.DEMO_CONSULTATIONS
    for tc in booked:
        assert tc.act.performers.get().email == f"expert.cardiologie@{seeding.DEMO_DOMAIN}"
        assert tc.assistance == "nurse_visit" and tc.act.room.closed_at is None
        assert tc.scheduled_at > datetime.datetime.now(datetime.UTC)


def test_the_demo_pharmacist_has_a_consultation_in_the_pharmacy(demo):
    from telesante.core import policy
    from telesante.teleconsultation import services as teleconsultations

    pharmacist = User.objects.get(email=f"pharmacien@{seeding.DEMO_DOMAIN}")
    (tc,) = teleconsultations.listing(pharmacist)
    assert tc.assistance == "pharmacy" and tc.act.requester == pharmacist
    assert tc.act.performers.get().email == f"medecin.generaliste@{seeding.DEMO_DOMAIN}"
    assert list(policy.visible_patients(pharmacist)) == [tc.act.patient]


def test_deployment_follow_up_matches_the_structures(demo):
    from telesante.deployment import services as deployment
    from telesante.deployment.models import SiteDeployment
    from telesante.indicators import filters
    from telesante.indicators.figures import compute

    follow_ups = SiteDeployment.objects.select_related("structure").prefetch_related("milestones")
    assert follow_ups.count() == Structure.objects.count()
    for site in follow_ups:
        s = site.structure
        before = (s.deployment_status, s.deployment_started_on, s.deployed_on)
        # The milestones say the same as the seeded dates: recomputing changes nothing.
        deployment.refresh_status(site)
        assert (s.deployment_status, s.deployment_started_on, s.deployed_on) == before
    # "Au 30 juin 2022 … 83 % des EHPAD sont déployés": the published figure comes out.
    summary = compute(filters.parse({"territory": "53", "period": "2022-S1"})).summary
    ehpad = summary["sites"]["by_type"]["ehpad"]
    assert (ehpad["deployed"], ehpad["total"], ehpad["deployed_pct"]) == (50, 60, 83.3)
    listed = Client().get("/api/v1/directory?territory=53").json()  # public, no login
    assert listed and all(e["deployment_status"] != "planned" for e in listed)
    assert any(f["code"] == "geriatrie" for e in listed for f in e["filieres"])


def test_a_closed_act_sends_its_report_through_the_outbox(demo):
    from telesante.outbox.models import Channel, Delivery

    users = User.objects.exclude(rpps=None)
    with_box = users.exclude(mssante_address="").count()
    assert 0.95 <= with_box / users.count() < 1
    gp = User.objects.get(email=f"medecin.generaliste@{seeding.DEMO_DOMAIN}")
    assert gp.mssante_address == "medecin.generaliste@demo.mssante.fr"
    lines = Delivery.objects.filter(
        act__teleexpertise__claimed_by__email__startswith="expert.geriatrie@"
    )
    patient = lines.first().act.patient
    assert patient.is_qualified and patient.gp == gp
    assert set(lines.values_list("channel", "recipient")) == {
        (Channel.MSSANTE, gp.mssante_address),
        (Channel.MSSANTE, f"{patient.matricule}@patient.mssante.fr"),
        (Channel.DMP, "dmp"),
    }


def test_the_samu_regulator_and_todays_calls(demo):
    from telesante.core import policy

    regulator = User.objects.get(email=f"regulateur@{seeding.DEMO_DOMAIN}")
    assert regulator.regulation_access and regulator.is_demo
    records = policy.visible_regulations(regulator)
    assert records.count() == len(seeding.REGULATION_CALLS)
    assert all(r.caller_number.startswith("+3363998") for r in records)
    nurse = User.objects.get(email=f"infirmiere@{seeding.DEMO_DOMAIN}")
    assert not policy.visible_regulations(nurse).exists()


def _columns(instance) -> dict:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def test_rows_load_as_djangos_own_loading_would(demo):
    """Every model of the project loads its rows directly (`core.loading`): each row of the
    demo region comes out as Django's loading makes it, whole, deferred and joined."""
    from django.apps import apps
    from django.db import models

    from telesante.core import loading

    ours = [m for m in apps.get_models() if m.__module__.startswith("telesante.")]
    assert ours and all(issubclass(m, loading.Model) for m in ours)
    compared = 0
    for model in ours:
        names = [f.attname for f in model._meta.concrete_fields]
        rows = list(model._base_manager.order_by("pk")[:20])
        values = model._base_manager.order_by("pk").values_list(*names)[:20]
        for row, value in zip(rows, values, strict=True):
            django = models.Model.from_db.__func__(model, "default", names, value)
            assert _columns(row) == _columns(django)
            assert (row._state.adding, row._state.db) == (False, "default")
            compared += 1
    assert compared > 300
    # A column left out stays deferred, read when asked; a join carries its row.
    te = TeleExpertise.objects.select_related("act__patient").only("question", "act__patient")
    first = te.order_by("pk").first()
    assert set(_columns(first)) == {"act_id", "question"}
    assert first.get_deferred_fields() >= {"state", "opinion"}
    assert first.state == TeleExpertise.objects.get(pk=first.pk).state
    assert first.act.patient == Patient.objects.get(pk=first.act.patient_id)


def test_a_receiver_of_the_init_signals_gets_djangos_loading(demo):
    from django.db.models.signals import post_init

    seen = []

    def heard(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(heard, sender=Patient)
    try:
        loaded = list(Patient.objects.order_by("pk")[:3])
    finally:
        post_init.disconnect(heard, sender=Patient)
    assert seen == [p.pk for p in loaded] and len(seen) == 3
