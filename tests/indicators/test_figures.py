"""Every figure on the known dataset of conftest.py, checked to the unit."""

import pytest
from django.core.exceptions import ValidationError

from telesante.indicators import filters as f
from telesante.indicators.figures import compute, weighted_percentile
from telesante.indicators.geo import haversine_km


def figures(**params):
    return compute(f.parse(params)).summary


def test_mayenne_first_semester_2022(dataset):
    s = figures(territory="53", period="2022-S1")
    assert s["period"] == "2022-S1" and s["territory"] == "Mayenne"
    assert s["acts"] == 6
    assert s["acts_by_kind"]["teleexpertise"] == 5
    assert s["acts_by_kind"]["teleconsultation"] == 1
    assert s["acts_by_kind"]["telesoin"] == 0
    assert s["acts_by_filiere"] == {
        "geriatrie": 2,
        "plaies_cicatrisation": 2,
        "dermatologie": 1,
        "": 1,
    }
    assert s["ehpad_acts"] == 5
    # Answered delays 4, 10, 20 and 50 hours: median 15, p90 20 + 0.7 × 30 (percentile_cont).
    assert s["teleexpertise_delay"] == {"answered": 4, "median_hours": 15.0, "p90_hours": 41.0}
    assert s["professionals"] == {"with_access": 3, "active": 3}
    sites = s["sites"]
    assert sites["by_type"]["ehpad"] == {
        "planned": 0,
        "in_progress": 1,
        "deployed": 1,
        "suspended": 0,
        "total": 2,
        "deployed_pct": 50.0,
        "in_progress_pct": 50.0,
    }
    assert sites["by_type"]["msp"]["deployed_pct"] == 100.0
    assert (sites["total"], sites["deployed"], sites["in_progress"]) == (3, 2, 1)
    assert (sites["deployed_pct"], sites["in_progress_pct"]) == (66.7, 33.3)
    assert s["zones"]["underserved"] == {
        "acts": 4,
        "acts_pct": 66.7,
        "sites": 1,
        "sites_pct": 33.3,
    }
    assert s["zones"]["rural"] == s["zones"]["underserved"]
    # Four EHPAD acts done, all to Le Mans, 72.26 km from Laval (Château-Gontier has no centre
    # point and stands at the mean of Mayenne's located communes, here Laval): 4 × 2 × 72.26.
    assert s["trips_avoided"] == {"trips": 4, "km": 578, "without_distance": 0}


def test_tables_follow_the_figures(dataset):
    result = compute(f.parse({"territory": "53", "period": "2022-S1"}))
    months = result.table("acts_by_month").rows
    assert [row[0] for row in months] == ["2022-02", "2022-03", "2022-04", "2022-05", "2022-06"]
    assert months[1][1:3] == [0, 2]  # March: no téléconsultation, two télé-expertises
    kinds = {row[0]: row[1:] for row in result.table("acts_by_kind").rows}
    assert kinds["Télé-expertise"] == [5, 4]
    sites = result.table("sites").rows
    assert sites[-1] == ["Total", 0, 1, 2, 0, 3, 66.7, 33.3]
    summary = dict(result.table("summary").rows)
    assert summary["Kilomètres évités (aller-retour, à vol d'oiseau)"] == 578


def test_sites_status_at_the_end_of_each_period(dataset):
    assert figures(territory="53", period="2022-S2")["sites"]["deployed_pct"] == 100.0
    early = figures(territory="53", period="2022-01")["sites"]
    # In January only E1 had started; E2 not yet; the MSP has no dates and keeps its status.
    assert (early["in_progress"], early["planned"], early["deployed"]) == (1, 1, 1)


def test_other_territories_and_periods(dataset):
    assert figures(period="2022")["acts"] == 8
    assert figures(territory="reg:52", period="2022-S1")["acts"] == 7
    assert figures(territory="53062", period="2022-S1")["acts"] == 1
    assert figures(territory="com:53130", period="2022-S1")["acts"] == 5  # E1 and the MSP
    second = figures(territory="53", period="2022-S2")
    assert second["acts"] == 1
    assert second["teleexpertise_delay"] == {
        "answered": 1,
        "median_hours": 30.0,
        "p90_hours": 30.0,
    }
    assert figures(period="2021")["acts"] == 0
    assert figures(period="2021")["teleexpertise_delay"]["median_hours"] is None


def test_filters_on_act_structure_and_people(dataset):
    tc = figures(period="2022-S1", kind="teleconsultation")
    assert tc["acts"] == 2 and tc["teleexpertise_delay"]["answered"] == 0
    assert figures(period="2022-S1", structure_kind="msp")["acts"] == 1
    assert figures(period="2022-S1", structure=str(dataset.e2.pk))["acts"] == 1
    assert figures(period="2022-S1", filiere="geriatrie")["acts"] == 2
    doctors = figures(period="2022-S1", profession="medecin")
    assert doctors["acts"] == 1
    assert doctors["professionals"] == {"with_access": 2, "active": 2}  # doctor_a, expert
    rural = figures(period="2022-S1", rural="1")
    assert rural["acts"] == 4 and rural["sites"]["total"] == 1
    assert figures(period="2022-S1", underserved="0")["acts"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2022-S3"}, "period"),
        ({"period": "2022-13"}, "period"),
        ({"territory": "99"}, "territory"),
        ({"territory": "xx:53"}, "territory"),
        ({"structure": "abc"}, "structure"),
        ({"kind": "radio"}, "kind"),
        ({"structure_kind": "zoo"}, "structure_kind"),
        ({"filiere": "inconnue"}, "filiere"),
        ({"profession": "mage"}, "profession"),
        ({"rural": "peut-etre"}, "rural"),
        ({"underserved": "2"}, "underserved"),
    ],
)
def test_bad_filters_name_their_field_in_french(territory, params, field):
    with pytest.raises(ValidationError) as err:
        f.parse(params)
    assert list(err.value.message_dict) == [field]


def test_periods():
    assert f.parse_period("2022-12").end.isoformat() == "2023-01-01"
    assert f.parse_period("2022-S2").start.isoformat() == "2022-07-01"
    assert f.parse_period("2022").last_day.isoformat() == "2022-12-31"


def test_percentile_and_distance_definitions():
    assert weighted_percentile([(7, 1)], 0.9) == 7
    assert weighted_percentile([(0, 1), (10, 1)], 0.5) == 5.0
    # 4, 10, 10, 10, 20: the median and p90 fall inside and across runs of equal values.
    runs = [(4, 1), (10, 3), (20, 1)]
    assert weighted_percentile(runs, 0.5) == 10
    assert weighted_percentile(runs, 0.9) == pytest.approx(16.0)
    assert haversine_km((0.0, 0.0), (0.0, 1.0)) == pytest.approx(111.195, abs=0.001)


def test_figures_stay_live_through_the_monthly_rollup(dataset):
    from telesante.acts.models import Act, ActStatus

    assert figures(territory="53", period="2022-S1")["acts_by_kind"]["teleexpertise"] == 5
    pending = Act.objects.get(requested_at__month=3, requested_at__day=20)
    pending.status = ActStatus.DONE
    pending.done_at = pending.requested_at
    pending.save()
    assert compute(f.parse({"territory": "53", "period": "2022-S1"})).table("acts_by_kind").rows[1][
        1:
    ] == [5, 5]
    pending.delete()
    assert figures(territory="53", period="2022-S1")["acts"] == 5


def test_refresh_command_rebuilds_rows_loaded_behind_the_orm(dataset, capsys):
    from django.core.management import call_command

    from telesante.indicators.models import ActMonth

    ActMonth.objects.all().delete()
    call_command("refresh_indicators")
    assert "Cumul mensuel reconstruit" in capsys.readouterr().out
    assert figures(territory="53", period="2022-S1")["acts"] == 6


def test_delays_agree_with_and_without_site_filters(dataset):
    # No site filter reads the region-wide roll-up; a territory reads the per-site one.
    region = figures(period="2022-S1")["teleexpertise_delay"]
    assert region == figures(territory="reg:52", period="2022-S1")["teleexpertise_delay"]
    assert region == {"answered": 4, "median_hours": 15.0, "p90_hours": 41.0}
    assert figures(period="2022-S1", filiere="geriatrie")["teleexpertise_delay"]["answered"] == 2


def test_rural_and_under_served_shares_are_counted_apart(dataset):
    # The MSP is rural but not under-served (APL 3.1), E1 under-served and rural: the two zone
    # figures differ, so neither can be read from the other.
    dataset.msp.rural = True
    dataset.msp.save()
    zones = figures(territory="53", period="2022-S1")["zones"]
    assert zones["underserved"] == {"acts": 4, "acts_pct": 66.7, "sites": 1, "sites_pct": 33.3}
    assert zones["rural"] == {"acts": 5, "acts_pct": 83.3, "sites": 2, "sites_pct": 66.7}


def test_the_zones_table_as_the_dashboard_shows_it_and_the_exports_write_it(dataset):
    table = compute(f.parse({"territory": "53", "period": "2022-S1"})).table("zones")
    zones = figures(territory="53", period="2022-S1")["zones"]
    assert (table.key, table.title) == ("zones", "Actes et sites en zone sous-dense et rurale")
    assert table.columns == ["Zone", "Actes", "% des actes", "Sites", "% des sites"]
    assert table.rows == [
        ["Zone sous-dense (APL)", *zones["underserved"].values()],
        ["Zone rurale", *zones["rural"].values()],
    ]
    assert table.masked == (1,)  # the count of acts, masked under the threshold in exports
    assert table.sheet_name == "Zones sous-denses et rurales"


def test_a_period_without_acts_has_no_act_in_any_zone_and_no_share(dataset):
    zones = figures(territory="53", period="2019-S1")["zones"]
    assert zones["underserved"]["acts"] == zones["rural"]["acts"] == 0
    assert zones["underserved"]["acts_pct"] is zones["rural"]["acts_pct"] is None
