"""Statements prepared once per shape (core.prepared) answer what the queryset answers, for
every value given afterwards, and refuse a statement that would not."""

import datetime
import threading
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.core import prepared
from telesante.patients import services
from telesante.patients.models import Patient
from tests.conftest import make_patient

pytestmark = pytest.mark.django_db


def by_name_and_birth(values):
    return (
        Patient.objects.filter(birth_name=values.name, birth_date__gte=values.born_after)
        .select_related("gp")
        .order_by("pk")
    )


def test_one_statement_serves_every_value_and_answers_as_the_queryset(world):
    for n in range(3):
        make_patient(world.ehpad_a, "ÉLUARD", f"Anaïs {n}", birth_date=f"195{n}-05-01")
    make_patient(world.ehpad_a, "MORVAN", "Loïc", birth_date="1960-01-01")
    shape = ("test", "by name and birth")
    asked = [
        ("ÉLUARD", datetime.date(1951, 1, 1)),
        ("MORVAN", datetime.date(1900, 1, 1)),
        ("ÉLUARD", datetime.date(1990, 1, 1)),
    ]
    for name, born_after in asked:
        with CaptureQueriesContext(connection) as ctx:
            rows = prepared.rows(shape, by_name_and_birth, name=name, born_after=born_after)
        expected = list(by_name_and_birth(type("V", (), {"name": name, "born_after": born_after})))
        assert [r.pk for r in rows] == [p.pk for p in expected]
        assert [r.gp for r in rows] == [p.gp for p in expected]
        assert len(ctx.captured_queries) == 1  # the join came with the rows
    assert [
        len(prepared.rows(shape, by_name_and_birth, name=n, born_after=d)) for n, d in asked
    ] == [
        2,
        1,
        0,
    ]
    assert sum(1 for key in prepared._CACHE if "by name and birth" in key) == 1


def test_datetimes_lists_and_sql_values(world):
    made = [make_patient(world.ehpad_a, "KERBRAT", f"Yann {n}") for n in range(4)]
    now = timezone.now()
    Patient.objects.filter(pk=made[0].pk).update(created_at=now - datetime.timedelta(days=3))
    wall = RawSQL("SELECT id FROM patients_patient WHERE birth_name = %s", ["KERBRAT"])

    def build(values):
        return Patient.objects.filter(pk__in=values.keys, created_at__lt=values.before).filter(
            pk__in=values.wall
        )

    keys = [made[0].pk, made[1].pk, made[2].pk]
    yesterday = now - datetime.timedelta(days=1)
    rows = prepared.rows(("test", "dt", 3), build, keys=keys, before=yesterday, wall=wall)
    assert [r.pk for r in rows] == [made[0].pk]
    later = now + datetime.timedelta(days=1)
    rows = prepared.rows(("test", "dt", 3), build, keys=keys, before=later, wall=wall)
    assert sorted(r.pk for r in rows) == keys
    other = RawSQL("SELECT id FROM patients_patient WHERE birth_name = %s", ["NOBODY"])
    assert prepared.rows(("test", "dt", 3), build, keys=keys, before=later, wall=other) == []


def test_a_text_searched_inside_keeps_its_wildcards_literal(world):
    make_patient(world.ehpad_a, "TAUX_50%", "Inès")
    make_patient(world.ehpad_a, "TAUXA50X", "Inès")

    def build(values):
        return Patient.objects.filter(birth_name__contains=values.part).values_list(
            "birth_name", flat=True
        )

    assert prepared.rows(("test", "contains"), build, part="X_50%") == ["TAUX_50%"]
    assert sorted(prepared.rows(("test", "contains"), build, part="TAUX")) == [
        "TAUXA50X",
        "TAUX_50%",
    ]


def test_a_statement_with_a_value_of_its_own_is_refused(world):
    with pytest.raises(ValueError, match="value of its own"):
        prepared.rows(
            ("test", "upper"),
            lambda v: Patient.objects.filter(birth_name=v.name.upper()),
            name="Éluard",
        )
    with pytest.raises(ValueError, match="text depends on its values"):
        prepared.rows(
            ("test", "text"),
            lambda v: (
                Patient.objects.filter(pk=v.n) if v.n % 2 else Patient.objects.filter(pk__gt=v.n)
            ),
            n=5,
        )
    with pytest.raises(TypeError, match="yes/no"):
        prepared.rows(("test", "bool"), lambda v: Patient.objects.filter(dmp_objection=v.b), b=True)
    with pytest.raises(TypeError, match="no stand-in for float"):
        prepared.rows(("test", "float"), lambda v: Patient.objects.filter(pk=v.x), x=1.5)


def test_an_empty_list_has_no_statement(world):
    assert prepared.rows(("test", "none"), lambda v: Patient.objects.none(), n=1) == []


def test_a_statement_django_leaves_out_for_the_stand_ins_is_read_as_a_queryset(world):
    """No statement for the stand-ins (none(), a value out of a column's range) is no reason
    to answer nothing for the request's values: their queryset is read instead."""

    def build(values):
        small = values.pk < 1000  # every stand-in is larger
        return Patient.objects.filter(pk=values.pk) if small else Patient.objects.none()

    # A key below the stand-ins' whatever the sequence has reached (the suite's earlier tests).
    patient = make_patient(world.ehpad_a, "KERVRAN", "Maëlle", pk=7)
    assert prepared.rows(("test", "left out"), build, pk=patient.pk) == [patient]
    assert prepared.rows(("test", "left out"), build, pk=patient.pk + 5000) == []


@pytest.mark.django_db(transaction=True)
def test_prepared_in_one_thread_runs_in_another(territory):
    from tests.conftest import make_structure

    structure = make_structure("EHPAD Les Ajoncs")
    patient = make_patient(structure, "GUÉGUEN", "Nolwenn")

    def build(values):
        return Patient.objects.filter(pk=values.pk)

    assert prepared.rows(("test", "thread"), build, pk=patient.pk) == [patient]
    found = []

    def elsewhere() -> None:
        try:
            found.extend(prepared.rows(("test", "thread"), build, pk=patient.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert found == [patient]


def test_the_shapes_kept_are_bounded(world, monkeypatch):
    """A search of many words makes a shape per pattern: the cache starts again when full."""
    monkeypatch.setattr(prepared, "MAX_SHAPES", 3)
    monkeypatch.setattr(prepared, "_CACHE", {})

    def build(values):
        return Patient.objects.filter(pk=values.pk)

    for n in range(7):
        assert prepared.rows(("test", "bounded", n), build, pk=world.patient_a.pk) == [
            world.patient_a
        ]
        assert len(prepared._CACHE) <= 3


def test_the_codes_constants_are_written_in_and_the_values_bound():
    sql, kept = prepared.inlined(
        "SELECT 1 FROM t WHERE a = %s AND b LIKE '%%x' AND c = %s AND d IN (%s, %s)",
        ["l'état", 7, "100 %", 3],
        [True, False, True, True],
    )
    assert sql == (
        "SELECT 1 FROM t WHERE a = 'l''état' AND b LIKE '%%x' AND c = %s AND d IN ('100 %%', 3)"
    )
    assert kept == [7]


def test_a_prepared_statement_holds_its_constants_on_postgresql(world):
    make_patient(world.ehpad_a, "QUÉMÉNER", "Gwen", birth_date="1950-05-01")

    def fixed_state(values):
        return Patient.objects.filter(birth_name=values.name, identity_status="PROV")

    rows = prepared.rows(("test", "constant"), fixed_state, name="QUÉMÉNER")
    assert [p.birth_name for p in rows] == ["QUÉMÉNER"]
    statement = next(p for key, p in prepared._CACHE.items() if "constant" in key)
    on_postgresql = connection.vendor == "postgresql"
    assert ("'PROV'" in statement.sql) == on_postgresql
    assert len(statement.params) == (1 if on_postgresql else 2)


def test_keys_among_one_array_on_postgresql_padded_elsewhere(world):
    made = [make_patient(world.ehpad_a, "LE GOFF", f"Nolwenn {n}") for n in range(5)]
    keys = [p.pk for p in made]

    def build(values):
        return Patient.objects.filter(prepared.is_among("pk", values.keys))

    on_postgresql = connection.vendor == "postgresql"
    for asked in (keys[:1], keys[:3], keys, keys[::-1][:4]):
        among, width = prepared.among(asked)
        assert isinstance(among, RawSQL) == on_postgresql
        assert width == (0 if on_postgresql else len(prepared.padded(asked)))
        with CaptureQueriesContext(connection) as ctx:
            rows = prepared.rows(("test", "among", width), build, keys=among)
        assert sorted(r.pk for r in rows) == sorted(asked)
        (query,) = ctx.captured_queries
        assert ("= ANY(" in query["sql"]) == on_postgresql
    shapes = {key for key in prepared._CACHE if "among" in key}
    assert len(shapes) == (1 if on_postgresql else 3)  # lengths 1, 3 (padded to 4), 5 (to 8)


def test_one_of_a_subquerys_values_an_array_read_once_on_postgresql(world):
    made = [
        make_patient(world.ehpad_a, name, "Yann") for name in ("KERBRAT", "LE BIHAN", "GUIVARC'H")
    ]
    make_patient(world.ehpad_a, "QUÉRÉ", "Soizic")
    yanns = Patient.objects.filter(first_names="Yann").order_by().values("pk")
    with CaptureQueriesContext(connection) as ctx:
        found = list(Patient.objects.filter(prepared.any_of("pk", yanns)))
    assert sorted(p.pk for p in found) == sorted(p.pk for p in made)
    (query,) = ctx.captured_queries
    on_postgresql = connection.vendor == "postgresql"
    assert ("= ANY(ARRAY(SELECT" in query["sql"]) == on_postgresql
    assert (" IN (SELECT" in query["sql"]) != on_postgresql


def test_the_columns_converters_are_asked_once_per_statement(world, monkeypatch):
    """Django asks each column's converters on every run; a prepared statement asks once, and
    its later runs convert as the first (dates, the account joined)."""
    from django.db.models.sql.compiler import SQLCompiler

    make_patient(world.ehpad_a, "ÉLUARD", "Anaïs", birth_date="1951-05-01")
    asked = []
    ask = SQLCompiler.get_converters
    monkeypatch.setattr(
        SQLCompiler, "get_converters", lambda self, e: asked.append(1) or ask(self, e)
    )
    shape = ("test", "converters asked once")
    for _ in range(3):
        (row,) = prepared.rows(
            shape, by_name_and_birth, name="ÉLUARD", born_after=datetime.date(1900, 1, 1)
        )
        assert row.birth_date == datetime.date(1951, 5, 1)
        assert isinstance(row.created_at, datetime.datetime) and row.created_at.tzinfo
    assert len(asked) == 1


def plan_settings() -> tuple[str, str]:
    """The plan mode and the parallel workers a statement may start, as the session has them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('plan_cache_mode'), "
            "current_setting('max_parallel_workers_per_gather')"
        )
        return cursor.fetchone()


def generic_and_custom_plans(text: str) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            [f"%{text}%"],
        )
        return cursor.fetchall()


def birth_names(values):
    return Patient.objects.filter(pk__in=values.wall).values("birth_name")


def test_a_generic_plan_within_and_postgresqls_own_choice_after(world):
    make_patient(world.ehpad_a, "KERGUELEN", "Aël")
    wall = RawSQL("SELECT id FROM patients_patient WHERE birth_name = %s", ["KERGUELEN"])
    reads = {"names": prepared.Read(birth_names, {"wall": wall})}
    session = plan_settings() if connection.vendor == "postgresql" else None
    for _ in range(4):  # prepared by psycopg on its third run (prepare_threshold=2)
        with CaptureQueriesContext(connection) as ctx:
            found = prepared.together(("test", "generic"), reads, generic_plan=True)
        assert found == {"names": [{"birth_name": "KERGUELEN"}]}
    said = [q["sql"] for q in ctx.captured_queries]
    if connection.vendor != "postgresql":  # SQLite keeps no plan: nothing to set
        assert len(said) == 1
        return
    assert said[:2] == [
        "SET plan_cache_mode = force_generic_plan",
        "SET max_parallel_workers_per_gather = 0",
    ]
    assert said[3:] == ["RESET plan_cache_mode", "RESET max_parallel_workers_per_gather"]
    assert generic_and_custom_plans("birth_name = ") == [(2, 0)]
    assert session[0] == "auto" and session[1] != "0"
    assert plan_settings() == session  # both reset


def test_patient_search_reads_its_keys_with_one_plan_for_any_search(world):
    """Planned for each search, the wall's statement cost more to plan than to run."""
    for name in ("KERGUELEN", "KERMARREC", "LE GOFF"):
        make_patient(world.ehpad_a, name, "Aël")
    asked = {"kerg": ["KERGUELEN"], "ker": ["KERGUELEN", "KERMARREC"], "goff": ["LE GOFF"]}
    for text, names in [*asked.items(), ("ker", asked["ker"])]:
        with CaptureQueriesContext(connection) as ctx:
            found = services.search(None, world.nurse_a, text)
        assert [p.birth_name for p in found] == names
    if connection.vendor != "postgresql":  # SQLite keeps no plan: the keys, the rows, the audit
        assert len(ctx.captured_queries) == 3
        return
    assert generic_and_custom_plans('"search_key"::text LIKE') == [(2, 0)]


def fail_with_a_generic_plan() -> None:
    failing = {"names": prepared.Read(birth_names, {"wall": RawSQL("SELECT 1 / %s", [0])})}
    prepared.together(("test", "fails"), failing, generic_plan=True)


@pytest.mark.django_db(transaction=True)
def test_a_failed_statement_takes_its_generic_plan_setting_with_it(world):
    """The settings, the statement and the reset go together: when the statement fails the
    reset does not run, and the rollback of the pipeline's implicit transaction undoes the
    settings."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    session = plan_settings()
    assert session[0] == "auto" and session[1] != "0"
    with pytest.raises(DatabaseError, match="division by zero"):
        fail_with_a_generic_plan()
    assert plan_settings() == session
    # Within a transaction, its rollback (of the savepoint, here) undoes it.
    with transaction.atomic():
        with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
            fail_with_a_generic_plan()
        assert plan_settings() == session


# Several lists read by one statement


def named_after(values):
    """A patient's columns of every kind a list shows: texts, dates, times, yes/no, keys."""
    return (
        Patient.objects.filter(birth_name=values.name, birth_date__gte=values.born_after)
        .values(
            "pk",
            "birth_name",
            "first_names",
            "birth_date",
            "created_at",
            "insi_checked_at",
            "dmp_objection",
            "gp",
            "gp__last_name",
        )
        .order_by("-birth_date", "pk")[:3]
    )


def latest_made(values):
    return (
        Patient.objects.filter(prepared.is_among("pk", values.keys))
        .values("pk", "created_at")
        .order_by("-pk")
    )


def test_several_lists_read_by_one_statement_answer_as_their_querysets(world):
    odd = 'ÉLUARD "l\'Ancien" \\ {[ ]}'  # quotes, a backslash and JSON's own marks in a name
    made = [
        make_patient(world.ehpad_a, odd, f"Anaïs {n}", birth_date=f"195{n}-05-01") for n in range(5)
    ]
    checked = timezone.now() - datetime.timedelta(days=2, microseconds=17)
    Patient.objects.filter(pk=made[4].pk).update(insi_checked_at=checked, dmp_objection=True)
    morvan = make_patient(world.ehpad_a, "MORVAN", "Loïc", birth_date="1960-01-01")
    asked = [
        (odd, datetime.date(1950, 1, 1), [made[0].pk, morvan.pk]),
        ("MORVAN", datetime.date(1900, 1, 1), [made[3].pk]),
        ("PERSONNE", datetime.date(1900, 1, 1), []),
    ]
    for name, born_after, keys in asked:
        values = {"name": name, "born_after": born_after}
        reads = {
            "named": prepared.Read(named_after, values),
            "latest": prepared.Read(latest_made, {"keys": prepared.among(keys)[0]}),
        }
        shape = ("test", "together", prepared.among(keys)[1])
        with CaptureQueriesContext(connection) as ctx:
            found = prepared.together(shape, reads)
        assert len(ctx.captured_queries) == 1
        expected = {
            "named": list(named_after(SimpleNamespace(**values))),
            "latest": list(
                Patient.objects.filter(pk__in=keys).values("pk", "created_at").order_by("-pk")
            ),
        }
        assert found == expected
    (first, *_rest) = prepared.together(
        ("test", "together", 0),
        {
            "named": prepared.Read(
                named_after, {"name": odd, "born_after": datetime.date(1900, 1, 1)}
            ),
            "latest": prepared.Read(latest_made, {"keys": prepared.among([])[0]}),
        },
    )["named"]
    assert first["birth_name"] == odd and first["birth_date"] == datetime.date(1954, 5, 1)
    assert first["insi_checked_at"] == checked and first["dmp_objection"] is True
    assert first["created_at"].tzinfo is not None


def test_a_column_json_would_not_give_back_is_refused(world):
    from django.db.models import FloatField, Value

    def build(values):
        return Patient.objects.filter(pk=values.pk).annotate(score=Value(0.5, FloatField()))

    with pytest.raises(TypeError, match="FloatField column read as JSON"):
        reads = {"scored": prepared.Read(lambda v: build(v).values("score"), {"pk": 1})}
        prepared.together(("test", "float"), reads)
    with pytest.raises(TypeError, match="reads values"):  # instances: read them with rows()
        prepared.together(("test", "instances"), {"patients": prepared.Read(build, {"pk": 1})})


def test_a_list_django_leaves_out_for_the_stand_ins_is_read_beside_the_others(world):
    patient = make_patient(world.ehpad_a, "KERVRAN", "Maëlle", pk=7)

    def small(values):  # every stand-in is larger: no statement for them
        if values.pk < 1000:
            return Patient.objects.filter(pk=values.pk).values("pk")
        return Patient.objects.none().values("pk")

    reads = {
        "small": prepared.Read(small, {"pk": patient.pk}),
        "latest": prepared.Read(latest_made, {"keys": prepared.among([patient.pk])[0]}),
    }
    found = prepared.together(("test", "left out", prepared.among([patient.pk])[1]), reads)
    assert found["small"] == [{"pk": patient.pk}]
    assert [row["pk"] for row in found["latest"]] == [patient.pk]
    alone = {"small": prepared.Read(small, {"pk": patient.pk})}
    assert prepared.together(("test", "alone"), alone) == {"small": [{"pk": patient.pk}]}
