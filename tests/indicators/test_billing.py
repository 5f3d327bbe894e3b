"""Billing export: a professional's codes over a period, TE2 cap per patient flagged."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from telesante.acts.models import Act, BillingCode
from telesante.teleconsultation.models import ActivityDeclaration
from tests.conftest import logged_in
from tests.indicators.conftest import add_act, at


def _codes(ds, n: int, month: int = 3):
    for i in range(n):
        act = add_act(ds, ds.e1, "teleexpertise", at(f"2022-{month:02d}-{i + 1:02d}"), hours=2)
        code = BillingCode.objects.create(act=act, code="TE2", professional=ds.expert)
        BillingCode.objects.filter(pk=code.pk).update(
            created_at=timezone.make_aware(datetime.datetime(2022, month, i + 1, 12))
        )


def _rows(response):
    text = response.content.decode()
    assert text.startswith("\ufeff")  # read as UTF-8 by spreadsheet software
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def test_fifth_te2_for_the_same_patient_in_a_year_is_flagged(dataset, settings):
    settings.TELESANTE_TE2_YEARLY_CAP = 4
    _codes(dataset, 3, month=2)
    _codes(dataset, 2, month=9)
    rows = _rows(
        logged_in(dataset.expert).get("/indicateurs/facturation.csv", {"period": "2022-S2"})
    )
    assert rows[0][:4] == ["Date", "N° de l'acte", "Type d'acte", "Code"]
    # Only the second semester is exported, but the first three codes count toward the cap.
    assert [r[0] for r in rows[1:]] == ["01/09/2022", "02/09/2022"]
    assert rows[1][2] == "Télé-expertise"
    assert rows[1][-1] == ""
    assert rows[2][-1].startswith("Plafond TE2 dépassé : 5")
    assert "DORVANE" not in "".join(";".join(r) for r in rows)


def test_regional_admin_exports_for_a_professional(dataset):
    _codes(dataset, 1)
    client = logged_in(dataset.w.regional_admin)
    rows = _rows(
        client.get(
            "/indicateurs/facturation.csv", {"professional": dataset.expert.pk, "period": "2022"}
        )
    )
    assert len(rows) == 2 and rows[1][3] == "TE2"
    assert client.get("/indicateurs/facturation.csv", {"professional": "999999"}).status_code == 400
    assert client.get("/indicateurs/facturation.csv", {"period": "demain"}).status_code == 400


def test_a_professional_cannot_export_someone_else(dataset):
    response = logged_in(dataset.w.nurse_a).get(
        "/indicateurs/facturation.csv", {"professional": dataset.expert.pk}
    )
    assert response.status_code == 403


def test_remote_activity_cap_against_the_declared_activity(dataset, settings):
    settings.TELESANTE_REMOTE_SHARE_CAP = 0.20
    _codes(dataset, 5, month=3)
    client = logged_in(dataset.expert)
    # Nothing declared: the share cannot be known, nothing is flagged.
    assert _rows(client.get("/indicateurs/facturation.csv", {"period": "2022"}))[1][-1] == ""
    ActivityDeclaration.objects.create(professional=dataset.expert, year=2022, total_acts=20)
    rows = _rows(client.get("/indicateurs/facturation.csv", {"period": "2022"}))
    assert "Plafond d'activité à distance dépassé : 25 %" in rows[1][-1]
    ActivityDeclaration.objects.filter(professional=dataset.expert).update(total_acts=30)
    rows = _rows(client.get("/indicateurs/facturation.csv", {"period": "2022"}))
    assert "bientôt atteint : 17 %" in rows[1][-1]
    ActivityDeclaration.objects.filter(professional=dataset.expert).update(total_acts=100)
    assert _rows(client.get("/indicateurs/facturation.csv", {"period": "2022"}))[1][-1] == ""


def test_an_answer_after_the_deadline_is_flagged_in_the_export(dataset):
    from telesante.teleexpertise.models import TeleExpertise

    _codes(dataset, 2, month=5)
    on_time, late = BillingCode.objects.order_by("pk").values_list("act", flat=True)
    asked = timezone.make_aware(datetime.datetime(2022, 5, 1, 9))
    for act_id, answered_after in ((on_time, 6), (late, 9)):
        Act.objects.filter(pk=act_id).update(due_at=asked + datetime.timedelta(days=7))
        TeleExpertise.objects.create(
            act_id=act_id,
            question="Avis ?",
            claimed_by=dataset.expert,
            answered_at=asked + datetime.timedelta(days=answered_after, hours=3),
        )
    rows = _rows(logged_in(dataset.expert).get("/indicateurs/facturation.csv", {"period": "2022"}))
    flags = {int(r[1]): r[-1] for r in rows[1:]}
    assert flags[on_time] == ""
    assert flags[late] == "Réponse hors délai : 2 j 3 h après l'échéance du 08/05/2022."


def test_a_filiere_cannot_set_an_answer_delay_beyond_seven_days(db):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from telesante.acts.models import Filiere

    filiere = Filiere.objects.get(pk="dermatologie")
    filiere.answer_days = 30
    with pytest.raises(ValidationError) as exc:
        filiere.full_clean()
    assert exc.value.message_dict["answer_days"] == [
        "Le délai de réponse d'une télé-expertise est de 7 jours au plus."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        Filiere.objects.filter(pk="dermatologie").update(answer_days=30)
    filiere.answer_days = 5
    filiere.full_clean()
