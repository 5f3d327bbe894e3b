"""Billing codes of an answered télé-expertise and the rule checks that make it non-billable."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from telesante.accounts.models import Membership
from telesante.acts.models import BillingCode
from telesante.structures.models import StructureKind
from telesante.teleconsultation import services as tc_services
from telesante.teleexpertise import billing, services
from tests.conftest import logged_in, make_patient, make_structure
from tests.rooms.conftest import booking, in_call
from tests.teleexpertise.conftest import answered, wound_request

SAME_MSP = "Non facturable : le demandeur et l'expert exercent dans la même MSP."


def cap_warning(n: int, cap: int) -> str:
    return (
        f"Plafond atteint : {n} télé-expertises facturées pour ce patient "
        f"par cet expert sur 12 mois (maximum {cap})."
    )


def codes(te) -> dict[str, BillingCode]:
    return {b.code: b for b in te.act.billing_codes.all()}


def test_te2_and_rqd_are_recorded_on_answer(te_world):
    t = te_world
    te = services.claim(None, t.wound_expert, services.create(None, t.w.nurse_a, wound_request(t)))
    assert not BillingCode.objects.exists()
    te = services.answer(None, t.wound_expert, te, "Avis", "", "none")
    found = codes(te)
    assert set(found) == {"TE2", "RQD"}
    assert found["TE2"].professional == t.wound_expert
    assert found["RQD"].professional == t.w.nurse_a
    for code in found.values():
        assert code.billable
        assert code.warnings == []


@pytest.fixture
def cap_alone(settings):
    """The yearly cap alone: these requests are all answered today, which the « no
    combination » check would refuse first."""
    settings.TELESANTE_TE2_COMBINATION_DAYS = 0
    return settings


def test_the_fifth_te2_within_a_year_is_not_billable(te_world, cap_alone):
    t = te_world
    cap = cap_alone.TELESANTE_TE2_YEARLY_CAP
    for _ in range(cap):
        te = answered(t)
        assert all(code.billable for code in codes(te).values())
    te = answered(t)
    found = codes(te)
    assert not found["TE2"].billable
    assert not found["RQD"].billable
    assert found["TE2"].warnings == [cap_warning(cap, cap)]
    assert BillingCode.objects.filter(code="TE2", billable=True).count() == cap


def test_the_cap_comes_from_the_settings(te_world, cap_alone):
    cap_alone.TELESANTE_TE2_YEARLY_CAP = 1
    assert codes(answered(te_world))["TE2"].billable
    second = codes(answered(te_world))["TE2"]
    assert not second.billable
    assert second.warnings == [cap_warning(1, 1)]


def test_the_cap_counts_only_the_last_twelve_months(te_world, settings):
    settings.TELESANTE_TE2_YEARLY_CAP = 1
    answered(te_world)
    BillingCode.objects.update(created_at=timezone.now() - datetime.timedelta(days=366))
    assert codes(answered(te_world))["TE2"].billable


def test_the_cap_is_per_patient_and_per_expert(te_world, settings):
    t = te_world
    settings.TELESANTE_TE2_YEARLY_CAP = 1
    answered(t)
    other_patient = make_patient(t.w.ehpad_a, birth_name="LOUVEAU", first_names="Jeanne")
    te = services.create(None, t.w.nurse_a, wound_request(t, patient_id=other_patient.pk))
    assert codes(answered(t, te))["TE2"].billable
    te = services.create(None, t.w.nurse_a, wound_request(t))
    te = services.claim(None, t.wound_expert_2, te)
    te = services.answer(None, t.wound_expert_2, te, "Avis", "", "none")
    assert codes(te)["TE2"].billable


@pytest.fixture
def same_msp(te_world):
    msp = make_structure("MSP du Bourny", kind=StructureKind.MSP, finess="530000039")
    for user in (te_world.w.nurse_a, te_world.wound_expert):
        Membership.objects.create(user=user, structure=msp)
    return msp


def test_requester_and_expert_of_the_same_msp_is_not_billable(te_world, same_msp):
    found = codes(answered(te_world))
    for code in found.values():
        assert not code.billable
        assert code.warnings == [SAME_MSP]


def test_sharing_a_non_msp_structure_is_billable(te_world):
    Membership.objects.create(
        user=te_world.wound_expert, structure=te_world.w.ehpad_a
    )  # a hospital doctor who also works at the EHPAD: not an MSP
    assert codes(answered(te_world))["TE2"].billable


def test_the_expert_sees_the_msp_warning_before_answering(te_world, same_msp):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t))
    url = reverse("teleexpertise_detail", args=[te.pk])
    # Before the claim the expert has no answer form and no warning yet.
    assert SAME_MSP not in page_text(t.wound_expert, url)
    services.claim(None, t.wound_expert, te)
    page = page_text(t.wound_expert, url)
    assert 'name="opinion"' in page
    assert SAME_MSP in page
    # The requester does not get the expert's billing warnings.
    assert SAME_MSP not in page_text(t.w.nurse_a, url)
    # After the answer, the codes show as non-billable with their reasons.
    services.answer(None, t.wound_expert, te, "Avis", "", "none")
    page = page_text(t.wound_expert, url)
    assert "non facturable" in page
    assert SAME_MSP in page


def test_the_expert_sees_the_cap_warning_before_answering(te_world, settings):
    t = te_world
    settings.TELESANTE_TE2_YEARLY_CAP = 1
    answered(t)
    te = services.claim(None, t.wound_expert, services.create(None, t.w.nurse_a, wound_request(t)))
    url = reverse("teleexpertise_detail", args=[te.pk])
    assert cap_warning(1, 1) in page_text(t.wound_expert, url)
    # Another expert of the pool has no previous act with this patient: no warning for them.
    te2 = services.create(None, t.w.nurse_a, wound_request(t))
    services.claim(None, t.wound_expert_2, te2)
    url2 = reverse("teleexpertise_detail", args=[te2.pk])
    assert "Plafond atteint" not in page_text(t.wound_expert_2, url2)


def page_text(user, url: str) -> str:
    response = logged_in(user).get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# « No combination with another act » (REGULATORY.md § Télé-expertise).


def combined(pk: int) -> str:
    return (
        "Non facturable : pas de cumul avec un autre acte du même expert pour ce patient "
        f"le même jour (acte n° {pk})."
    )


def test_a_second_act_of_the_same_expert_for_the_patient_the_same_day_is_not_billed(te_world):
    first = answered(te_world)
    second = codes(answered(te_world))
    assert not second["TE2"].billable and not second["RQD"].billable
    assert second["TE2"].warnings == [combined(first.pk)]
    assert BillingCode.objects.filter(code="TE2", billable=True).count() == 1


def test_an_act_of_the_same_expert_yesterday_is_no_combination(te_world):
    answered(te_world)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    BillingCode.objects.update(created_at=yesterday)
    assert codes(answered(te_world))["TE2"].billable


def test_the_combination_window_is_a_setting(te_world, settings):
    first = answered(te_world)
    BillingCode.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))
    settings.TELESANTE_TE2_COMBINATION_DAYS = 2  # yesterday and today
    assert codes(answered(te_world))["TE2"].warnings == [combined(first.pk)]


def after_te2(pk: int) -> str:
    return (
        "Non facturable : pas de cumul avec la télé-expertise (TE2) facturée par ce "
        f"professionnel pour ce patient le même jour (acte n° {pk})."
    )


def teleconsultation_by(t, doctor, patient=None):
    """A téléconsultation of the doctor for patient_a (or `patient`), assisted by nurse_a
    (TLS), held by video and closed: its billing codes by code."""
    w = t.w
    extra = {"patient_id": patient.pk} if patient else {}
    tc = tc_services.create(None, w.nurse_a, booking(w, doctor, **extra))
    in_call(tc, doctor)
    tc = tc_services.save_report(None, doctor, tc, "Plaie propre.", "", True)
    return tc, codes(tc)


def test_a_teleconsultation_billed_after_a_te2_the_same_day_is_not_billed(te_world):
    # The TE2 first, the téléconsultation second: the second act is not billed. A TE2 for
    # another patient before it: the act named in the warning is the TE2's, not its code's row.
    t = te_world
    other_patient = make_patient(t.w.ehpad_a, birth_name="LOUVEAU", first_names="Jeanne")
    answered(t, services.create(None, t.w.nurse_a, wound_request(t, patient_id=other_patient.pk)))
    te = answered(te_world)
    assert te.act.pk != te.act.billing_codes.get(code="TE2").pk
    _tc, found = teleconsultation_by(te_world, te_world.wound_expert)
    assert not found["TC"].billable and not found["TLS"].billable
    assert found["TC"].warnings[0] == after_te2(te.act.pk)
    assert found["TLS"].warnings[0] == after_te2(te.act.pk)
    assert codes(te)["TE2"].billable


def test_a_te2_answered_after_a_teleconsultation_the_same_day_is_not_billed(te_world):
    # The téléconsultation first, the TE2 second.
    tc, found = teleconsultation_by(te_world, te_world.wound_expert)
    assert found["TC"].billable and found["TLS"].billable
    second = codes(answered(te_world))
    assert not second["TE2"].billable and not second["RQD"].billable
    assert second["TE2"].warnings == [combined(tc.act.pk)]


def test_a_teleconsultation_after_a_te2_of_another_day_patient_or_expert_is_billed(te_world):
    t = te_world
    answered(t)
    BillingCode.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))
    assert teleconsultation_by(t, t.wound_expert)[1]["TC"].billable  # yesterday's TE2
    other_patient = make_patient(t.w.ehpad_a, birth_name="LOUVEAU", first_names="Jeanne")
    te = services.create(None, t.w.nurse_a, wound_request(t, patient_id=other_patient.pk))
    answered(t, te)  # today, another patient
    assert teleconsultation_by(t, t.wound_expert)[1]["TC"].billable
    te = services.claim(
        None, t.wound_expert_2, services.create(None, t.w.nurse_a, wound_request(t))
    )
    services.answer(None, t.wound_expert_2, te, "Avis", "", "none")  # today, another expert
    assert teleconsultation_by(t, t.wound_expert)[1]["TC"].billable


def test_a_te2_not_billed_blocks_no_teleconsultation(te_world):
    te = answered(te_world)
    BillingCode.objects.filter(act=te.act).update(billable=False)
    assert teleconsultation_by(te_world, te_world.wound_expert)[1]["TC"].billable


def test_the_window_after_a_te2_is_the_same_setting(te_world, settings):
    te = answered(te_world)
    BillingCode.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))
    settings.TELESANTE_TE2_COMBINATION_DAYS = 2  # yesterday and today
    assert teleconsultation_by(te_world, te_world.wound_expert)[1]["TC"].warnings[0] == (
        after_te2(te.act.pk)
    )
    settings.TELESANTE_TE2_COMBINATION_DAYS = 0  # the check off
    assert teleconsultation_by(te_world, te_world.wound_expert)[1]["TC"].billable


def test_another_patient_or_another_expert_the_same_day_is_billed(te_world):
    t = te_world
    answered(t)
    other_patient = make_patient(t.w.ehpad_a, birth_name="LOUVEAU", first_names="Jeanne")
    te = services.create(None, t.w.nurse_a, wound_request(t, patient_id=other_patient.pk))
    assert codes(answered(t, te))["TE2"].billable
    te = services.create(None, t.w.nurse_a, wound_request(t))
    te = services.claim(None, t.wound_expert_2, te)
    te = services.answer(None, t.wound_expert_2, te, "Avis", "", "none")
    assert codes(te)["TE2"].billable


def test_the_cap_counts_billable_te2_of_other_acts_only(te_world, settings):
    # Neither RQD codes, nor non-billable TE2, nor the act's own code count towards the cap.
    t = te_world
    settings.TELESANTE_TE2_YEARLY_CAP = 1
    first = answered(t)
    BillingCode.objects.filter(act=first.act, code="TE2").update(billable=False)
    assert codes(answered(t))["TE2"].billable  # one RQD and one non-billable TE2 before it
    te = services.claim(None, t.wound_expert, services.create(None, t.w.nurse_a, wound_request(t)))
    BillingCode.objects.exclude(code="TE2").delete()
    BillingCode.objects.filter(code="TE2").update(billable=False)
    BillingCode.objects.create(act=te.act, code="TE2", professional=t.wound_expert)
    assert billing.checks(te) == []


def test_the_cap_window_is_365_days(te_world, settings):
    settings.TELESANTE_TE2_YEARLY_CAP = 1
    answered(te_world)
    BillingCode.objects.update(created_at=timezone.now() - datetime.timedelta(days=365, hours=1))
    assert codes(answered(te_world))["TE2"].billable


def test_an_msp_of_the_requester_alone_is_billable(te_world):
    msp = make_structure("MSP du Bourny", kind=StructureKind.MSP, finess="530000039")
    Membership.objects.create(user=te_world.w.nurse_a, structure=msp)
    assert codes(answered(te_world))["TE2"].billable


def test_the_experts_own_requests_do_not_count_towards_the_cap(te_world, settings):
    # An RQD the expert billed as a requester for this patient is not a TE2.
    settings.TELESANTE_TE2_YEARLY_CAP = 1
    first = answered(te_world)
    # Two days before: the same-day rule (no combination with another act) stays out of it.
    BillingCode.objects.filter(act=first.act).update(
        code="RQD", created_at=timezone.now() - datetime.timedelta(days=2)
    )
    assert codes(answered(te_world))["TE2"].billable
