"""The RGAA 4.1 self-assessment (data/rgaa.json, written out in docs/accessibility.md) and the
conformity it gives: the share of conforming criteria among the applicable ones, the measure
the accessibility statement publishes (décret 2019-768)."""

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

DATA = Path(__file__).resolve().parent / "data" / "rgaa.json"
CONFORMING, NOT_CONFORMING, NOT_APPLICABLE = "C", "NC", "NA"


@dataclass(frozen=True)
class Criterion:
    id: str
    theme: str
    title: str
    result: str  # C, NC or NA
    where: str


@dataclass(frozen=True)
class Assessment:
    version: str
    date: datetime.date
    criteria: tuple[Criterion, ...]

    def count(self, result: str) -> int:
        return sum(c.result == result for c in self.criteria)

    @property
    def count_c(self) -> int:
        return self.count(CONFORMING)

    @property
    def count_nc(self) -> int:
        return self.count(NOT_CONFORMING)

    @property
    def count_na(self) -> int:
        return self.count(NOT_APPLICABLE)

    @property
    def rate(self) -> int:
        """Conforming criteria over applicable ones, in whole percent (rounded down: never
        claim more than measured)."""
        applicable = self.count_c + self.count_nc
        return 100 * self.count_c // applicable if applicable else 100

    @property
    def level(self) -> str:
        """The statement's wording: totally conforming at 100 %, partially from 50 %."""
        if self.rate == 100:
            return str(_("totalement conforme"))
        return str(_("partiellement conforme") if self.rate >= 50 else _("non conforme"))

    @property
    def failures(self) -> list[Criterion]:
        return [c for c in self.criteria if c.result == NOT_CONFORMING]


@cache
def assessment() -> Assessment:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return Assessment(
        raw["version"],
        datetime.date.fromisoformat(raw["date"]),
        tuple(Criterion(**c) for c in raw["criteria"]),
    )
