"""The seven indications of télésurveillance's common law (REGULATORY.md) are shipped, each with
measures of the catalogue and the thresholds that raise its alerts."""

from telesante.telesurveillance import programmes
from telesante.telesurveillance.catalog import TYPES
from telesante.telesurveillance.models import Programme

# Heart, renal and respiratory failure, diabetes, implantable cardiac devices, arrhythmia, oncology.
INDICATIONS = {
    "insuffisance_cardiaque",
    "insuffisance_renale",
    "insuffisance_respiratoire",
    "diabete",
    "protheses_cardiaques",
    "arythmie",
    "oncologie",
}


def test_the_seven_indications_are_shipped(db):
    assert programmes.load() == 7
    shipped = Programme.objects.filter(active=True)
    assert {p.code for p in shipped} == set(INDICATIONS)


def test_each_indication_has_catalogue_measures_and_alert_thresholds(db):
    programmes.load()
    for programme in Programme.objects.all():
        assert programme.measures, programme.code
        for measure in programme.measures:
            assert measure["type"] in TYPES and measure["per_week"] > 0, programme.code
        kinds = {t["kind"] for t in programme.thresholds}
        # Alerts on a crossed threshold and on missing data (REGULATORY.md, télésurveillance).
        assert "missing" in kinds and kinds - {"missing"}, programme.code
