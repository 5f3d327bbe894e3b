"""Patient pages: search, creation with duplicate warning, detail, status and consent forms;
French messages; constant SQL cost whatever the number of rows."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from telesante.acts.models import Act
from telesante.core import audit
from telesante.core.models import AuditAction, AuditEntry
from telesante.patients.models import Consent, IdentityStatus, IdentityStatusChange, Patient
from tests.conftest import api_client, logged_in, make_patient, make_user

NIR_WOMAN = "240035313000128"


def form_data(world, **fields) -> dict:
    return {
        "birth_name": "Quenorel",
        "first_names": "Ilda",
        "birth_date": "1931-05-04",
        "sex": "F",
        "birthplace_code": "53130",
        "structure": world.ehpad_a.pk,
        "attachment_kind": "patient",
        **fields,
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def nurse(world):
    return logged_in(world.nurse_a)


# Search page.


def test_search_page_lists_matching_patients(world, nurse):
    make_patient(world.ehpad_a, "AUBRAC", "Noé", birth_date="1951-12-24", sex="M")
    page = nurse.get(reverse("patient_list"), {"q": "dorvâne"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "DORVANE" in html
    assert "02/03/1940" in html
    assert "Identité provisoire" in html
    assert reverse("patient_detail", args=[world.patient_a.pk]) in html
    assert "AUBRAC" not in html


def test_search_page_by_birth_date(world, nurse):
    make_patient(world.ehpad_a, "AUBRAC", "Noé", birth_date="1951-12-24", sex="M")
    html = nurse.get(reverse("patient_list"), {"q": "24/12/1951"}).content.decode()
    assert "AUBRAC" in html
    assert "DORVANE" not in html


def test_search_page_without_match_says_so_in_french(world, nurse):
    html = nurse.get(reverse("patient_list"), {"q": "valmorin"}).content.decode()
    assert "Aucun patient trouvé." in html
    assert "VALMORIN" not in html


def test_search_page_keeps_the_query_in_the_box(nurse):
    html = nurse.get(reverse("patient_list"), {"q": "  dorvane  "}).content.decode()
    assert 'value="dorvane"' in html


def test_observer_cannot_open_patient_pages(world):
    client = logged_in(world.observer)
    assert client.get(reverse("patient_list")).status_code == 403
    assert client.get(reverse("patient_create")).status_code == 403
    assert client.get(reverse("patient_detail", args=[world.patient_a.pk])).status_code == 404
    assert "Patients" not in client.get("/").content.decode().split("<main")[0]


def test_odd_inputs_never_cause_a_server_error(world, nurse):
    assert nurse.get(reverse("patient_list"), {"q": "dorv\x00ane"}).status_code == 400
    assert nurse.get(reverse("patient_detail", args=[10**20])).status_code == 404
    admin = logged_in(world.admin_a)
    audit_url = reverse("structure_audit", args=[world.ehpad_a.pk])
    assert admin.get(audit_url, {"page": "abc"}).status_code == 200
    assert admin.get(audit_url, {"page": "999"}).status_code == 200
    response = nurse.post(reverse("patient_create"), form_data(world, birth_name="A\x00B"))
    assert response.status_code == 400
    assert response.content.decode() == "Caractère nul interdit (champ : birth_name)."


# Creation page.


def test_create_page_offers_only_the_users_structures(world, nurse):
    page = nurse.get(reverse("patient_create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "EHPAD Les Tilleuls" in html
    assert "EHPAD Le Verger" not in html
    assert "Traits stricts" in html
    # The GP list offers active general practitioners only.
    gp_choices = list(page.context["form"].fields["gp"].queryset)
    assert gp_choices == [world.doctor_a]


def test_create_page_creates_and_redirects_to_the_detail(world, nurse):
    response = nurse.post(
        reverse("patient_create"),
        form_data(world, gp=world.doctor_a.pk, birthplace_code="99134", born_abroad="on"),
    )
    patient = Patient.objects.get(birth_name="QUENOREL")
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    assert messages_of(response) == ["Patient créé avec une identité provisoire."]
    assert patient.gp == world.doctor_a
    assert patient.attachments.get().structure == world.ehpad_a


def test_create_page_warns_of_a_duplicate_then_creates_once_confirmed(world, nurse):
    twin = form_data(world, birth_name="Dorvanne", first_names="Alix", birth_date="1940-03-02")
    warning = nurse.post(reverse("patient_create"), twin)
    assert warning.status_code == 400
    html = warning.content.decode()
    assert "Identités proches déjà enregistrées" in html
    assert reverse("patient_detail", args=[world.patient_a.pk]) in html
    assert 'name="confirm_not_duplicate"' in html
    assert not Patient.objects.filter(birth_name="DORVANNE").exists()
    confirmed = nurse.post(reverse("patient_create"), {**twin, "confirm_not_duplicate": "on"})
    assert confirmed.status_code == 302
    assert Patient.objects.filter(birth_name="DORVANNE").count() == 1


def test_create_page_only_counts_duplicates_of_other_structures(world, nurse):
    lookalike = form_data(world, birth_name="Valmorin", first_names="Basile", sex="M")
    lookalike["birth_date"] = "1940-03-02"
    html = nurse.post(reverse("patient_create"), lookalike).content.decode()
    assert "1 identité proche existe dans une autre structure" in html
    assert "VALMORIN" not in html.split("<form")[0]
    assert reverse("patient_detail", args=[world.patient_b.pk]) not in html


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"birth_date": str(timezone.localdate() + datetime.timedelta(days=2))},
            "birth_date",
            "La date de naissance ne peut pas être dans le futur.",
        ),
        ({"birthplace_code": "53999"}, "birthplace_code", "Code INSEE de commune inconnu : 53999."),
        (
            {"birthplace_code": "531"},
            "birthplace_code",
            "Choisissez la commune de naissance dans la liste (ou le pays).",
        ),
        (
            {"birthplace_code": "99134"},
            "birthplace_code",
            "Né·e à l'étranger : choisissez un pays ; sinon, une commune.",
        ),
        (
            {"birthplace_code": "53130", "born_abroad": "on"},
            "birthplace_code",
            "Né·e à l'étranger : choisissez un pays ; sinon, une commune.",
        ),
        ({"birth_name": ""}, "birth_name", "Ce champ est obligatoire."),
        ({"birth_date": "31/02/1950"}, "birth_date", "Saisissez une date valide."),
        ({"sex": "X"}, "sex", "Sélectionnez un choix valide"),
        ({"structure": "999999"}, "structure", "Sélectionnez un choix valide"),
    ],
)
def test_create_page_bad_input_keeps_the_form_with_french_errors(
    world, nurse, fields, field, message
):
    data = form_data(world, **fields)
    response = nurse.post(reverse("patient_create"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert form["first_names"].value() == "Ilda"  # what was typed is kept
    assert not Patient.objects.filter(first_names="Ilda").exists()
    assert not AuditEntry.objects.filter(action=AuditAction.CREATE).exists()


def test_create_page_refuses_another_structure_chosen_by_hand(world, nurse):
    response = nurse.post(reverse("patient_create"), form_data(world, structure=world.ehpad_b.pk))
    assert response.status_code == 400
    assert "structure" in response.context["form"].errors
    assert not Patient.objects.filter(birth_name="QUENOREL").exists()


# Detail page.


def test_detail_page_shows_identity_structures_and_history(world, nurse):
    page = nurse.get(reverse("patient_detail", args=[world.patient_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "DORVANE" in html
    assert "EHPAD Les Tilleuls (Patient suivi)" in html
    assert "Aucun consentement enregistré." in html
    assert AuditEntry.objects.filter(action=AuditAction.READ).count() == 1


def test_detail_page_hides_the_matricule_unless_qualified(world, nurse):
    url = reverse("patient_detail", args=[world.patient_a.pk])
    Patient.objects.filter(pk=world.patient_a.pk).update(
        identity_status=IdentityStatus.VALIDATED, matricule=NIR_WOMAN, matricule_kind="NIR"
    )
    html = nurse.get(url).content.decode()
    assert NIR_WOMAN not in html
    assert "non affiché : identité non qualifiée" in html
    Patient.objects.filter(pk=world.patient_a.pk).update(identity_status=IdentityStatus.QUALIFIED)
    html = nurse.get(url).content.decode()
    assert f"<code>{NIR_WOMAN}</code>" in html
    assert "urn:oid:1.2.250.1.213.1.4.8" in html


def test_detail_page_of_another_structures_patient_is_404(world, nurse):
    assert nurse.get(reverse("patient_detail", args=[world.patient_b.pk])).status_code == 404


def test_detail_page_opens_for_every_member_and_act_party(world):
    url = reverse("patient_detail", args=[world.patient_a.pk])
    for user in [world.nurse_a, world.admin_a, world.doctor_a]:
        assert logged_in(user).get(url).status_code == 200
    expert = make_user("expert@example.test")
    assert logged_in(expert).get(url).status_code == 404
    act = Act.objects.create(
        kind="teleexpertise",
        patient=world.patient_a,
        requester=world.nurse_a,
        requesting_structure=world.ehpad_a,
    )
    act.performers.add(expert)
    assert logged_in(expert).get(url).status_code == 200


# Status form.


def test_status_form_changes_the_status_with_a_french_success_message(world, nurse):
    url = reverse("patient_status", args=[world.patient_a.pk])
    response = nurse.post(url, {"new_status": "VALI", "evidence": "passport", "note": "vu"})
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[world.patient_a.pk])
    assert messages_of(response) == ["Statut de l'identité mis à jour."]
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.VALIDATED
    change = IdentityStatusChange.objects.get(patient=world.patient_a)
    assert (change.old_status, change.new_status, change.note) == ("PROV", "VALI", "vu")
    page = nurse.get(response["Location"])
    assert list(page.context["status_changes"]) == [change]
    assert "Identité validée" in page.content.decode()


def test_status_form_does_not_qualify_by_hand(world, nurse):
    # RNIV: QUAL comes from the INSi teleservice, never from a matricule typed here.
    response = nurse.post(
        reverse("patient_status", args=[world.patient_a.pk]),
        {"new_status": "QUAL", "evidence": "id_card", "matricule": "2 40 03 53 130 001 28"},
    )
    assert any("s'obtiennent par le téléservice INSi" in m for m in messages_of(response))
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.PROVISIONAL
    assert world.patient_a.matricule == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"new_status": "VALI", "evidence": "none"},
            "Une identité validée exige une pièce d'identité à haut niveau de confiance.",
        ),
        ({"new_status": "RECUP", "evidence": "insi"}, "par le téléservice INSi, pas à la main"),
        ({"new_status": "QUAL", "evidence": "passport"}, "par le téléservice INSi, pas à la main"),
        (
            {"new_status": "VALI", "evidence": "family_book"},
            "ne valent que pour un mineur",
        ),
        ({"new_status": "VALI"}, "Formulaire de statut incomplet."),
        ({"new_status": "ZZZ", "evidence": "passport"}, "Formulaire de statut incomplet."),
    ],
)
def test_status_form_errors_are_french_messages_and_change_nothing(world, nurse, data, message):
    response = nurse.post(reverse("patient_status", args=[world.patient_a.pk]), data)
    assert response.status_code == 302
    assert any(message in m for m in messages_of(response))
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.PROVISIONAL
    assert not IdentityStatusChange.objects.filter(patient=world.patient_a).exists()


def test_status_form_is_post_only_and_behind_the_wall(world, nurse):
    assert nurse.get(reverse("patient_status", args=[world.patient_a.pk])).status_code == 405
    response = nurse.post(
        reverse("patient_status", args=[world.patient_b.pk]),
        {"new_status": "VALI", "evidence": "passport"},
    )
    assert response.status_code == 404
    world.patient_b.refresh_from_db()
    assert world.patient_b.identity_status == IdentityStatus.PROVISIONAL


# Consent form.


def test_consent_form_records_consent_with_a_french_message(world, nurse):
    response = nurse.post(
        reverse("patient_consent", args=[world.patient_a.pk]),
        {"act_kind": "teleexpertise", "information_given": "on", "decision": "consent"},
    )
    assert messages_of(response) == ["Consentement enregistré."]
    consent = Consent.objects.get()
    assert (consent.decision, consent.structure, consent.collected_by) == (
        "consent",
        world.ehpad_a,
        world.nurse_a,
    )
    page = nurse.get(response["Location"])
    assert list(page.context["consents"]) == [consent]
    assert "Aucun consentement enregistré." not in page.content.decode()


def test_consent_form_records_a_refusal(world, nurse):
    nurse.post(
        reverse("patient_consent", args=[world.patient_a.pk]),
        {"act_kind": "teleconsultation", "information_given": "on", "decision": "refusal"},
    )
    assert Consent.objects.get().decision == "refusal"


def test_consent_without_information_is_refused_in_french(world, nurse):
    response = nurse.post(
        reverse("patient_consent", args=[world.patient_a.pk]),
        {"act_kind": "teleexpertise", "decision": "consent"},
    )
    assert messages_of(response) == [
        "Le patient doit avoir été informé avant de consentir ou refuser."
    ]
    assert not Consent.objects.exists()


def test_incomplete_consent_form_is_refused_in_french(world, nurse):
    response = nurse.post(
        reverse("patient_consent", args=[world.patient_a.pk]), {"information_given": "on"}
    )
    assert messages_of(response) == ["Indiquez le type d'acte et la décision du patient."]
    assert not Consent.objects.exists()


def test_consent_form_is_behind_the_wall(world):
    response = logged_in(world.nurse_b).post(
        reverse("patient_consent", args=[world.patient_a.pk]),
        {"act_kind": "teleexpertise", "information_given": "on", "decision": "consent"},
    )
    assert response.status_code == 404
    assert not Consent.objects.exists()


# Structure pages.


def test_structure_page_shows_members_and_patient_count(world, nurse):
    page = nurse.get(reverse("structure_detail", args=[world.ehpad_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Équipe de la structure (3)" in html
    assert "530000011" in html
    assert page.context["structure"].patient_count == 1
    assert "Journal d'accès aux patients" not in html


def test_structure_page_links_the_audit_for_its_admin(world):
    html = logged_in(world.admin_a).get(reverse("structure_detail", args=[world.ehpad_a.pk]))
    assert reverse("structure_audit", args=[world.ehpad_a.pk]) in html.content.decode()


def test_regional_roles_see_every_structure_members_only_their_own(world):
    url_b = reverse("structure_detail", args=[world.ehpad_b.pk])
    assert logged_in(world.nurse_a).get(url_b).status_code == 404
    assert logged_in(world.observer).get(url_b).status_code == 200
    assert logged_in(world.regional_admin).get(url_b).status_code == 200


def test_home_lists_the_users_structures_and_audit_link_for_admins(world):
    html = logged_in(world.admin_a).get("/").content.decode()
    assert "EHPAD Les Tilleuls" in html
    assert reverse("structure_audit", args=[world.ehpad_a.pk]) in html
    html = logged_in(world.nurse_a).get("/").content.decode()
    assert reverse("structure_audit", args=[world.ehpad_a.pk]) not in html
    alone = make_user("sans.structure@example.test")
    assert "Vous n'êtes membre d'aucune structure." in (
        logged_in(alone).get("/").content.decode().replace("&#x27;", "'")
    )
    # A regional observer has no structure section at all: nothing clinical on their home.
    assert "Mes structures" not in logged_in(world.observer).get("/").content.decode()


# SQL cost does not grow with the number of rows.


def count_queries(callable_) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = callable_()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_patients(world, n: int) -> None:
    gp = world.doctor_a
    for i in range(n):
        patient = make_patient(world.ehpad_a, f"SERIE{i:02d}", "Jean", gp=gp)
        patient.consents.create(
            act_kind="teleexpertise", information_given=True, decision="consent", collected_by=gp
        )


@pytest.mark.parametrize("kind", ["page", "api"])
def test_patient_list_costs_the_same_queries_for_2_and_30_patients(world, kind):
    client = logged_in(world.nurse_a) if kind == "page" else api_client(world.nurse_a)
    url = reverse("patient_list") if kind == "page" else "/api/v1/patients"
    add_patients(world, 1)
    client.get(url)  # warm-up: session, token last use
    few = count_queries(lambda: client.get(url, {"q": "jean"}))
    add_patients(world, 29)
    many_response = client.get(url, {"q": "jean"})
    assert many_response.status_code == 200
    many = count_queries(lambda: client.get(url, {"q": "jean"}))
    assert few == many
    found = AuditEntry.objects.filter(action=AuditAction.SEARCH, detail="jean")
    assert found.values("patient_id").distinct().count() == 30


def test_structure_audit_page_costs_the_same_queries_for_2_and_30_entries(world):
    client = logged_in(world.admin_a)
    url = reverse("structure_audit", args=[world.ehpad_a.pk])
    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a] * 2)
    client.get(url)
    few = count_queries(lambda: client.get(url))
    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a] * 28)
    many = count_queries(lambda: client.get(url))
    assert few == many
    assert "30 entrées" in client.get(url).content.decode()


def test_structure_audit_csv_costs_the_same_queries_for_2_and_30_entries(world):
    client = logged_in(world.admin_a)
    url = reverse("structure_audit", args=[world.ehpad_a.pk])

    def export():
        response = client.get(url, {"format": "csv"})
        b"".join(response.streaming_content)
        return response

    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a] * 2)
    client.get("/")  # warm-up: the second-factor check is then cached in the session
    few = count_queries(export)
    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a] * 28)
    assert count_queries(export) == few


def test_patient_detail_costs_the_same_queries_with_a_long_history(world):
    client = logged_in(world.nurse_a)
    url = reverse("patient_detail", args=[world.patient_a.pk])
    gp = world.doctor_a
    Patient.objects.filter(pk=world.patient_a.pk).update(gp=gp)

    def add_history(n):
        for _ in range(n):
            world.patient_a.status_changes.create(
                new_status="PROV", evidence="none", changed_by=make_user(f"u{_next()}@x.test")
            )
            world.patient_a.consents.create(
                act_kind="telesoin", information_given=True, decision="consent", collected_by=gp
            )

    add_history(2)
    client.get("/")  # warm-up: the second-factor check is then cached in the session
    few = count_queries(lambda: client.get(url))
    add_history(10)
    assert count_queries(lambda: client.get(url)) == few


_counter = iter(range(10**6))


def _next() -> int:
    return next(_counter)


def test_patient_list_pages_keep_the_query_and_audit_only_the_rows_shown(world, pages_of_two):
    add_patients(world, 5)  # SERIE00..04, plus DORVANE who does not match « serie »
    client = logged_in(world.nurse_a)
    first = client.get(reverse("patient_list"), {"q": "serie"}).content.decode()
    assert "5 patients trouvés pour « serie »" in first.replace("&quot;", '"')
    assert "SERIE00" in first and "SERIE01" in first and "SERIE02" not in first
    assert "Page 1 sur 3 (5 résultats)" in first and 'href="?q=serie&amp;page=2"' in first
    last = client.get(reverse("patient_list"), {"q": "serie", "page": "3"}).content.decode()
    assert "SERIE04" in last and "SERIE03" not in last and 'href="?q=serie&amp;page=2"' in last
    audited = AuditEntry.objects.filter(action=AuditAction.SEARCH, detail="serie")
    assert audited.count() == 3  # two on the first page, one on the last
    wrong = client.get(reverse("patient_list"), {"q": "serie", "page": "x"})
    assert "Page 1 sur 3" in wrong.content.decode()
    for asked, shown in (("0", "Page 1 sur 3"), ("-2", "Page 1 sur 3"), ("99", "Page 3 sur 3")):
        html = client.get(reverse("patient_list"), {"q": "serie", "page": asked}).content
        assert shown in html.decode()
    beyond = client.get(reverse("patient_list"), {"q": "serie", "page": "9" * 30})
    assert "SERIE04" in beyond.content.decode() and "Page 3 sur 3" in beyond.content.decode()
    nothing = client.get(reverse("patient_list"), {"q": "valmorin", "page": "4"})
    assert nothing.context["page"].number == 1 and not list(nothing.context["page"])
    assert "Aucun patient trouvé." in nothing.content.decode()


def test_a_patient_list_page_reads_its_rows_and_total_in_one_statement(world, pages_of_two):
    add_patients(world, 5)
    client = logged_in(world.nurse_a)
    client.get(reverse("patient_list"))  # warm-up: session, second factor
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("patient_list"), {"q": "serie", "page": "2"}).content.decode()
    assert "SERIE02" in html and "SERIE03" in html and "Page 2 sur 3 (5 résultats)" in html
    read = [q["sql"] for q in ctx.captured_queries if "patients_patient" in q["sql"]]
    counted = [sql for sql in read if "OVER ()" in sql]
    assert len(counted) == 1 and not [sql for sql in read if "SELECT COUNT(" in sql]


def test_patient_api_pages_by_offset_with_the_total_in_a_header(world):
    add_patients(world, 5)
    client = api_client(world.nurse_a)
    answer = client.get("/api/v1/patients", {"q": "serie", "limit": 2, "offset": 3})
    assert answer.status_code == 200 and answer["X-Total-Count"] == "5"
    assert [p["birth_name"] for p in answer.json()] == ["SERIE03", "SERIE04"]
    assert client.get("/api/v1/patients", {"offset": -1}).status_code == 422
    audited = AuditEntry.objects.filter(action=AuditAction.SEARCH, detail="serie")
    listed = Patient.objects.filter(pk__in=audited.values("patient_id"))
    assert sorted(listed.values_list("birth_name", flat=True)) == ["SERIE03", "SERIE04"]


def test_patient_page_pages_the_consent_history_keeping_the_acts_page(world):
    patient = world.patient_a
    for day in range(1, 26):
        consent = patient.consents.create(
            act_kind="teleexpertise",
            information_given=True,
            decision="consent",
            collected_by=world.nurse_a,
            note=f"jour {day}",
        )
        Consent.objects.filter(pk=consent.pk).update(
            collected_at=timezone.make_aware(datetime.datetime(2026, 1, day, 9))
        )
    client = logged_in(world.nurse_a)
    url = reverse("patient_detail", args=[patient.pk])
    first = client.get(url).content.decode()
    assert "25/01/2026 09:00" in first and "05/01/2026 09:00" not in first
    assert "Page 1 sur 2 (25 résultats)" in first
    assert 'href="?consentements=2#consent-history"' in first
    second = client.get(url, {"page": "1", "consentements": "2"}).content.decode()
    assert "05/01/2026 09:00" in second and "01/01/2026 09:00" in second
    assert "06/01/2026 09:00" not in second
    assert 'href="?page=1&amp;consentements=1#consent-history"' in second


def test_new_patient_form_starts_on_the_users_only_structure(world):
    page = logged_in(world.nurse_a).get(reverse("patient_create")).content.decode()
    select = page[page.index('<select name="structure"') :]
    select = select[: select.index("</select>")]
    assert f'<option value="{world.ehpad_a.pk}" selected>' in select and "-----" not in select
