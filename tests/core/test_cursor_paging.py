"""Lists read by cursor: each page starts after the last row of the one before, whatever the
ties on the order's columns; pages cost the same queries; each page audits what it shows; a
forged or foreign cursor is refused in French."""

import datetime
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core import signing
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch
from django.db.models.functions import Length
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.core import paging
from telesante.core.json_rows import JSONRows
from telesante.core.models import AuditEntry
from telesante.patients.models import Patient
from telesante.teleconsultation import services as tc_services
from telesante.teleconsultation.models import TeleConsultation
from telesante.teleexpertise import services as te_services
from telesante.teleexpertise.models import TeleExpertise
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance.models import (
    Alert,
    AlertState,
    Device,
    Enrolment,
    EnrolmentState,
    Severity,
)
from tests.conftest import api_client, make_patient, make_structure
from tests.directory.test_directory import _offer
from tests.rooms.conftest import TC, booking
from tests.teleexpertise.conftest import TE, answered, load_filieres, wound_request
from tests.telesurveillance.conftest import TSV, new_enrolment


def walk(
    client, path: str, limit: int, key: str = "id", **filters: str
) -> tuple[list[int], list[int]]:
    """Every page by cursor, following the Link header: the ids in order, and the queries
    each page cost."""
    ids, queries = [], []
    url = f"{path}?{urlencode({**filters, 'limit': limit, 'cursor': ''})}"
    while url:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, response.content
        assert "X-Total-Count" not in response  # a cursor page counts nothing
        ids += [row[key] for row in response.json()]
        queries.append(len(ctx.captured_queries))
        url = ""
        if "X-Next-Cursor" in response:
            link, rel = response["Link"].split("; ")
            assert rel == 'rel="next"' and link.startswith(f"<{path}?")
            url = link[1:-1]
            query = parse_qs(urlparse(url).query)
            assert query["cursor"] == [response["X-Next-Cursor"]]
            assert query == {**{k: [v] for k, v in filters.items()}, **query}  # filters kept
    return ids, queries


def test_teleconsultations_by_cursor_equal_the_list_with_ties_on_the_date(tc_world: TC):
    w, doctor = tc_world.w, tc_world.cardiologist
    made = [tc_services.create(None, w.nurse_a, booking(w, doctor)) for _ in range(6)]
    # Four at the same minute (two performers' agendas could): the act id breaks the tie.
    same_time = timezone.now() + datetime.timedelta(days=3)
    TeleConsultation.objects.filter(pk__in=[tc.pk for tc in made[:4]]).update(
        scheduled_at=same_time
    )
    client = api_client(w.nurse_a)
    client.get("/api/v1/teleconsultations", {"limit": 1})  # the token's first use is recorded
    whole = [row["id"] for row in client.get("/api/v1/teleconsultations").json()]
    assert len(whole) == 7
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids, queries = walk(client, "/api/v1/teleconsultations", 2)
    assert ids == whole
    assert len(set(queries[:-1])) == 1 and queries[-1] <= queries[0]  # full pages alike
    # Each page audited the rows it showed, nothing more, nothing less.
    audited = AuditEntry.objects.filter(pk__gt=before, actor_id=w.nurse_a.pk, action="search")
    assert sorted(int(e.object_id) for e in audited) == sorted(whole)


def test_patients_by_cursor_with_identical_names(world):
    for n in range(5):
        make_patient(world.ehpad_a, "DORVANE", "Alix", birth_date=f"194{n}-03-02")
    client = api_client(world.nurse_a)
    whole = [p["id"] for p in client.get("/api/v1/patients", {"q": "dorvane"}).json()]
    assert len(whole) == 6  # the world's own patient_a too
    ids, _ = walk(client, "/api/v1/patients", 4, q="dorvane")
    assert ids == whole
    # The other structure's nurse walks an empty list: one page, no cursor.
    assert walk(api_client(world.nurse_b), "/api/v1/patients", 4, q="dorvane")[0] == []


def test_expert_inbox_by_cursor_open_requests_then_history(te_world: TE):
    load_filieres()
    t = te_world
    for _ in range(3):
        answered(t)  # the expert's history
    for _ in range(3):
        te_services.create(None, t.w.nurse_a, wound_request(t))  # open, in the pool
    client = api_client(t.wound_expert)
    whole = [r["id"] for r in client.get("/api/v1/teleexpertise", {"box": "inbox"}).json()]
    assert len(whole) == 6
    for limit in (1, 2, 4):  # pages ending inside the open part, at its end, past it
        assert walk(client, "/api/v1/teleexpertise", limit, box="inbox")[0] == whole
    nurse = api_client(t.w.nurse_a)
    sent = [r["id"] for r in nurse.get("/api/v1/teleexpertise", {"box": "outbox"}).json()]
    for limit in (1, 2, 4):
        assert walk(nurse, "/api/v1/teleexpertise", limit, box="outbox")[0] == sent
    with CaptureQueriesContext(connection) as seen:  # the history bounds the act's key too
        walk(nurse, "/api/v1/teleexpertise", 1, box="outbox")
    assert any('"acts_act"."id" < ' in q["sql"] for q in seen.captured_queries)


@pytest.mark.django_db
def test_a_bound_on_a_joined_key_needs_its_table_joined_once():
    unjoined = paging.Listing(
        ("test: unjoined",),
        lambda v: TeleExpertise.objects.order_by("-pk"),
        {},
        same_as_key=("act__id",),
    )
    with pytest.raises(TypeError, match="joins acts_act 0 times"):
        paging.keyset_page(unjoined, ["k", 5], 10)


def test_a_forged_or_foreign_cursor_is_refused_in_french(tc_world: TC, world):
    w = tc_world.w
    client = api_client(w.nurse_a)
    make_patient(w.ehpad_a, "DORVANE", "Louise")
    foreign = client.get("/api/v1/patients", {"q": "dorvane", "limit": 1, "cursor": ""})
    patients_cursor = foreign["X-Next-Cursor"]
    wrong_types = signing.dumps(["k", "pas une date", 3], salt=paging.CURSOR_SALT)
    for cursor in (
        "n'importe quoi",
        patients_cursor,  # another list's position: other columns
        wrong_types,
        signing.dumps(["k", 1], salt="autre"),
        signing.dumps({"k": 1}, salt=paging.CURSOR_SALT),
        signing.dumps(["o", -1], salt=paging.CURSOR_SALT),
    ):
        response = client.get("/api/v1/teleconsultations", {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert "Curseur de pagination invalide" in response.content.decode()


def test_keyset_needs_a_total_order_without_null():
    with pytest.raises(TypeError):
        paging.keyset_page(Patient.objects.order_by("birth_name"), None, 10)
    with pytest.raises(TypeError):  # a nullable column
        paging.keyset_page(Patient.objects.order_by("gp", "pk"), None, 10)


@pytest.mark.django_db
def test_chain_reads_its_first_list_by_offset_then_the_second_by_keyset(world):
    for n in range(4):
        make_patient(world.ehpad_a, "ABELIN", f"P{n}")
        make_patient(world.ehpad_a, "ZORAN", f"P{n}")
    chain = paging.Chain(
        Patient.objects.filter(birth_name="ABELIN").order_by("first_names", "pk"),
        Patient.objects.filter(birth_name="ZORAN").order_by("-first_names", "-pk"),
    )
    seen, start = [], None
    while True:
        rows, start = chain.cursor_page(start, 3)
        seen += [p.first_names + p.birth_name[0] for p in rows]
        if start is None:
            break
    assert seen == ["P0A", "P1A", "P2A", "P3A", "P3Z", "P2Z", "P1Z", "P0Z"]
    assert seen == [p.first_names + p.birth_name[0] for p in chain[0:8]]


def test_directory_sites_by_cursor(world):
    for name in ("Site A", "Site B", "Site C", "Site D"):
        _offer(make_structure(name))
    client = api_client(None)  # the directory is public
    names = [site["name"] for site in client.get("/api/v1/directory").json()]
    assert len(names) == 4
    assert walk(client, "/api/v1/directory", 3, key="name")[0] == names


@pytest.mark.django_db
def test_rows_of_a_page_keep_their_joins_and_order_or_their_annotations(world):
    """A page is read as its keys through the list's filter, then its rows by key with their
    joins: the same rows, in the same order, as one statement would give; a list whose rows
    carry more than their model (an annotation) keeps reading in one statement."""
    for n in range(5):
        make_patient(world.ehpad_a, "ABELIN", f"P{n}")
    listed = (
        Patient.objects.filter(birth_name="ABELIN")
        .select_related("gp")
        .prefetch_related("attachments")
        .order_by("-first_names", "-pk")
    )
    with CaptureQueriesContext(connection) as ctx:
        rows = paging.rows_of(listed, 1, 4)
        names = [(p.first_names, p.gp, len(p.attachments.all())) for p in rows]
    assert len(ctx.captured_queries) == 3  # keys, rows with their joins, the prefetch
    assert names == [(p.first_names, p.gp, 1) for p in listed[1:4]]
    assert [p.first_names for p in rows] == ["P3", "P2", "P1"]
    counted = listed.annotate(letters=Length("first_names"))
    with CaptureQueriesContext(connection) as ctx:
        rows = paging.rows_of(counted, 0, 2)
    assert [(p.first_names, p.letters) for p in rows] == [("P4", 2), ("P3", 2)]
    assert len(ctx.captured_queries) == 2  # one statement, and the prefetch
    assert paging.rows_of(listed.filter(first_names="nobody"), 0, 5) == []


def test_alerts_and_enrolments_by_cursor_with_ties_and_a_state(tsv: TSV):
    """Prepared lists (paging.Listing): every value of their shape answers as the offset list,
    whatever the ties on severity and time, with or without a state."""
    at = timezone.now()
    for n in range(7):
        Alert.objects.create(
            enrolment=tsv.enrolment,
            patient=tsv.w.patient_a,
            rule=f"r{n}",
            severity=Severity.HIGH if n % 3 else Severity.CRITICAL,
            message="Poids en hausse",
            opened_at=at - datetime.timedelta(minutes=n // 2),  # pairs at the same minute
            state=AlertState.OPEN if n % 2 else AlertState.ACKNOWLEDGED,
        )
    client = api_client(tsv.operator)
    path = "/api/v1/telesurveillance/alerts"
    for state in ("", "open", "acknowledged"):
        filters = {"state": state} if state else {}
        whole = [a["id"] for a in client.get(path, filters).json()]
        assert len(whole) == {"": 7, "open": 3, "acknowledged": 4}[state]
        for limit in (1, 2, 3):
            ids, queries = walk(client, path, limit, **filters)
            assert ids == whole
            assert len(set(queries[:-1])) <= 1  # each full page costs the same
    second = enrolments.enrol(
        None,
        tsv.operator,
        new_enrolment(tsv.w, tsv.team, tsv.team_doctor, devices=["SC-0002"], programme="diabete"),
    )
    Enrolment.objects.filter(pk=second.pk).update(state=EnrolmentState.ENDED)
    path = "/api/v1/telesurveillance/enrolments"
    for state, expected in (("", [second.pk, tsv.enrolment.pk]), ("ended", [second.pk])):
        filters = {"state": state} if state else {}
        whole = [e["id"] for e in client.get(path, filters).json()]
        assert whole == expected
        assert walk(client, path, 1, **filters)[0] == whole
    assert walk(api_client(tsv.other_operator), path, 1)[0] == []


def test_a_pages_reverse_foreign_keys_come_prepared_in_key_order(tsv: TSV):
    """A page's `devices` (a reverse foreign key) are read by one prepared statement, each
    device knowing its enrolment; a deeper lookup is left to Django's prefetch."""
    second = enrolments.enrol(
        None,
        tsv.operator,
        new_enrolment(tsv.w, tsv.team, tsv.team_doctor, devices=["SC-0002"], programme="diabete"),
    )
    serials = list(tsv.enrolment.devices.order_by("pk").values_list("serial", flat=True))
    expected = {second.pk: [("SC-0002", True)], tsv.enrolment.pk: [(s, True) for s in serials]}
    every = Enrolment.objects.order_by("-pk")
    named = paging.Listing(("test: named",), lambda v: every.prefetch_related("devices"), {})
    with CaptureQueriesContext(connection) as ctx:
        rows, _after = paging.keyset_page(named, None, 5)
        devices = {e.pk: [(d.serial, d.enrolment is e) for d in e.devices.all()] for e in rows}
    assert len(ctx.captured_queries) == 3  # keys, rows, devices
    assert devices == expected
    # A Prefetch with a queryset of its own is Django's to read.
    own = Prefetch("devices", queryset=Device.objects.order_by("-serial"), to_attr="mine")
    by_django = paging.Listing(("test: own",), lambda v: every.prefetch_related(own), {})
    rows, _after = paging.keyset_page(by_django, None, 5)
    assert [[d.serial for d in e.mine] for e in rows] == [["SC-0002"], sorted(serials)[::-1]]
    deeper = paging.Listing(
        ("test: deeper",),
        lambda v: Enrolment.objects.prefetch_related("devices__tokens").order_by("-pk"),
        {},
    )
    with CaptureQueriesContext(connection) as ctx:
        rows, _after = paging.keyset_page(deeper, None, 5)
        tokens = [len(d.tokens.all()) for e in rows for d in e.devices.all()]
    assert len(ctx.captured_queries) == 4  # keys, rows, devices, their tokens
    assert len(tokens) == len(serials) + 1


def test_a_listings_annotations_come_with_its_rows_in_one_statement(tsv: TSV):
    """The enrolments' devices are read by the statement of the page's rows, as JSON (serial and
    label), in their keys' order, on every way the list is read; none is an empty list."""
    second = enrolments.enrol(
        None,
        tsv.operator,
        new_enrolment(tsv.w, tsv.team, tsv.team_doctor, devices=["SC-0002"], programme="diabete"),
    )
    Device.objects.create(serial="SC-0003", enrolment=second, label="Lecteur « Écho »")
    bare = enrolments.enrol(
        None,
        tsv.operator,
        new_enrolment(tsv.w, tsv.team, tsv.team_doctor, devices=["SC-0004"], programme="arythmie"),
    )
    Device.objects.filter(enrolment=bare).delete()
    expected = {
        bare.pk: [],
        second.pk: [
            {"serial": "SC-0002", "label": ""},
            {"serial": "SC-0003", "label": "Lecteur « Écho »"},
        ],
        tsv.enrolment.pk: [
            {"serial": d.serial, "label": d.label} for d in tsv.enrolment.devices.order_by("pk")
        ],
    }
    listed = enrolments.listed(tsv.operator)
    with CaptureQueriesContext(connection) as ctx:
        rows, _after = paging.keyset_page(listed, None, 5)
    assert len(ctx.captured_queries) == 2  # keys, rows with their devices
    assert {e.pk: enrolments.devices_of(e) for e in rows} == expected
    by_offset = paging.window(listed, 0, 5)
    numbered = list(listed.queryset())
    for read in (by_offset, numbered):
        assert {e.pk: enrolments.devices_of(e) for e in read} == expected
    # One enrolment read alone reads its own devices.
    alone = enrolments.devices_of(Enrolment.objects.get(pk=second.pk))
    assert [d.serial for d in alone] == ["SC-0002", "SC-0003"]
    answer = api_client(tsv.operator).get("/api/v1/telesurveillance/enrolments").json()
    assert {e["id"]: e["devices"] for e in answer} == expected


def test_json_rows_keys_each_object_by_the_names_of_its_values(tsv: TSV):
    """A foreign key named without `_id` is keyed by that name on both databases."""
    devices = Device.objects.filter(enrolment=OuterRef("pk")).order_by("-serial")
    read = Enrolment.objects.annotate(listed=JSONRows(devices.values("enrolment", "serial")))
    expected = [
        {"enrolment": tsv.enrolment.pk, "serial": serial}
        for serial in tsv.enrolment.devices.order_by("-serial").values_list("serial", flat=True)
    ]
    assert read.get(pk=tsv.enrolment.pk).listed == expected != []


def test_a_listing_reads_its_rows_as_columns_or_with_annotations_not_both():
    """The columns come with the keys' statement, which reads no annotation."""
    devices = Device.objects.filter(enrolment=OuterRef("pk")).values("serial")
    with pytest.raises(TypeError, match="not both"):
        paging.Listing(
            ("test",),
            lambda v: Enrolment.objects.all(),
            {},
            columns=("pk",),
            annotations=(("devices", JSONRows(devices)),),
        )


def test_a_listing_read_as_columns_is_not_read_with_a_generic_plan():
    """Its keys' statement would read the columns too, which one with a generic plan does not."""
    with pytest.raises(TypeError, match="generic plan"):
        paging.Listing(
            ("test",), lambda v: Enrolment.objects.all(), {}, columns=("pk",), generic_plan=True
        )


def test_json_rows_reads_values_of_plain_fields_only():
    with pytest.raises(TypeError, match="values"):
        JSONRows(Device.objects.filter(enrolment=OuterRef("pk")))
    counted = Device.objects.values("serial").annotate(n=Count("pk"))
    with pytest.raises(TypeError, match="values"):
        JSONRows(counted)


def test_a_listings_first_pages_share_one_statement_of_its_top_keys(world, monkeypatch):
    from telesante.core import prepared

    monkeypatch.setattr(paging, "TOP", 5)
    made = [make_patient(world.ehpad_a, "CADIOU", f"P{n}") for n in range(7)]

    def build(values):
        return Patient.objects.filter(birth_name=values.name).order_by("first_names", "pk")

    first = paging.Listing(("test", "top"), build, {"name": "CADIOU"})
    chain = paging.Chain(first, Patient.objects.none().order_by("pk"))
    seen, start = [], None
    while True:
        rows, start = chain.cursor_page(start, 2)
        seen += [p.pk for p in rows]
        if start is None:
            break
    assert seen == [p.pk for p in made]
    keys = sorted(key[-3:-1] for key in prepared._CACHE if key[1:4] == ("keys", "test", "top"))
    # Each page reads a row more than it shows: pages 1 and 2 from the top 5 keys (one
    # statement), pages 3 and 4 by their offset.
    assert keys == [(0, 5), (4, 7), (6, 9)]


@pytest.mark.django_db
def test_a_listing_read_as_columns_gives_the_same_rows_as_dicts(world):
    made = [make_patient(world.ehpad_a, "CADIOU", f"P{n % 3}") for n in range(7)]  # ties

    def build(values):
        return Patient.objects.filter(birth_name=values.name).order_by("first_names", "pk")

    values = {"name": "CADIOU"}
    columns = paging.Listing(("test", "columns"), build, values, columns=("birth_name",))
    models = paging.Listing(("test", "instances"), build, values)
    expected = [p.pk for p in sorted(made, key=lambda p: (p.first_names, p.pk))]
    seen, start = [], None
    while True:  # by cursor: the order's columns come with each row, the key as "pk"
        with CaptureQueriesContext(connection) as ctx:
            rows, start = paging.keyset_page(columns, start, 3)
        assert len(ctx.captured_queries) == 1  # the columns read with the keys
        assert all(set(row) == {"pk", "birth_name", "first_names"} for row in rows)
        seen += [row["pk"] for row in rows]
        if start is None:
            break
    assert seen == expected
    chain = paging.Chain(columns, Patient.objects.none().order_by("pk"))
    assert [row["pk"] for row in chain[2:5]] == expected[2:5]  # by offset, as dicts too
    assert [p.pk for p in paging.Chain(models, Patient.objects.none().order_by("pk"))[2:5]] == (
        expected[2:5]
    )


def test_an_offset_page_and_its_total_come_from_one_statement(world):
    made = [make_patient(world.ehpad_a, "CADIOU", f"P{n % 3}") for n in range(7)]  # ties
    expected = [p.pk for p in sorted(made, key=lambda p: (p.first_names, p.pk))]
    client = api_client(world.nurse_a)
    client.get("/api/v1/patients", {"q": "cadiou"})  # the token's first use is recorded
    pages = {}
    for offset in (0, 3, 6, 7, 9):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/patients", {"q": "cadiou", "offset": offset, "limit": 3})
        assert response["X-Total-Count"] == "7"
        pages[offset] = [p["id"] for p in response.json()]
        statements = [q["sql"] for q in ctx.captured_queries]
        counts = [sql for sql in statements if "COUNT(" in sql]
        # Within the list, the keys carry the total (COUNT(*) OVER ()); past its end, they
        # are none, and a count follows.
        assert "OVER" in counts[0]
        assert [("OVER" in c) for c in counts[1:]] == ([] if offset < 7 else [False])
    assert pages[0] + pages[3] + pages[6] == expected
    assert pages[7] == pages[9] == []
    # Nothing found from the top: the total is 0, without a count.
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/patients", {"q": "zzzz"})
    assert response["X-Total-Count"] == "0" and response.json() == []
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"] and "OVER" not in q["sql"]]
