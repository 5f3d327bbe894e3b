"""Monthly roll-up of the act record: what the indicators read, so that their cost follows the
number of sites and months, not the number of acts (10 million acts stay under a second).

It stays live: saving or deleting an act marks its month dirty (signals.py) and every
computation first rebuilds the dirty months (rollup.py). Acts written behind the ORM's back
(SQL, COPY) need ``telesante refresh-indicators``.
"""

from django.db import models

from telesante.core import loading


class ActMonth(loading.Model):
    month = models.DateField()  # first day of the month of the request, platform time zone
    kind = models.CharField(max_length=20)
    filiere = models.ForeignKey(
        "acts.Filiere", on_delete=models.CASCADE, null=True, related_name="+"
    )
    requesting_structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, related_name="+"
    )
    performing_structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, null=True, related_name="+"
    )
    profession = models.CharField(max_length=30)  # the requester's
    done = models.BooleanField()
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["month", "kind"]),
            models.Index(fields=["requesting_structure", "month"]),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} ×{self.n}"


class ActorMonth(loading.Model):
    """Who took part in acts (requester or performer) in a month, per site, kind and filière."""

    month = models.DateField()
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    requesting_structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20)
    filiere = models.ForeignKey(
        "acts.Filiere", on_delete=models.CASCADE, null=True, related_name="+"
    )
    profession = models.CharField(max_length=30)  # the user's

    class Meta:
        indexes = [models.Index(fields=["month", "kind"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.user_id}"


class DelayMonth(loading.Model):
    """Answered télé-expertises of a request month by answer delay in whole hours."""

    month = models.DateField()
    requesting_structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    filiere = models.ForeignKey(
        "acts.Filiere", on_delete=models.CASCADE, null=True, related_name="+"
    )
    profession = models.CharField(max_length=30)  # the requester's
    hours = models.PositiveIntegerField()
    n = models.PositiveIntegerField()

    class Meta:
        # A period is a range of months: read from the index alone on PostgreSQL.
        indexes = [
            models.Index(
                fields=["month", "requesting_structure"],
                include=["hours", "n"],
                name="delaymonth_month_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.hours} h ×{self.n}"


class RegionDelayMonth(loading.Model):
    """The same summed over the sites: what a figure without any site filter reads."""

    month = models.DateField()
    filiere = models.ForeignKey(
        "acts.Filiere", on_delete=models.CASCADE, null=True, related_name="+"
    )
    profession = models.CharField(max_length=30)
    hours = models.PositiveIntegerField()
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month", "hours"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.hours} h ×{self.n}"


class DirtyMonth(loading.Model):
    month = models.DateField(primary_key=True)

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
