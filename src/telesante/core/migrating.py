"""Helpers shared by data migrations."""

from django.db import migrations


def on_postgresql(forward: str, backward: str) -> migrations.RunPython:
    """A schema step in PostgreSQL's own SQL (a trigger, an index SQLite has no kind of): run
    there, a no-op on SQLite."""

    def step(sql: str):
        def run(apps, schema_editor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql)

        return run

    return migrations.RunPython(step(forward), step(backward))


def check_constraints_now(schema_editor) -> None:
    """PostgreSQL checks foreign keys at commit; the schema changes that follow a data change in
    the same transaction need those checks done first."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


TEAM_NAME = "Équipe de la structure"  # structures.Team.DEFAULT_NAME when teams came


def default_teams(apps, structure_ids) -> dict[int, int]:
    """The first team of each structure (created when it has none), by structure id."""
    Team = apps.get_model("structures", "Team")
    wanted = set(structure_ids) - {None}
    teams: dict[int, int] = {}
    for structure_id, team_id in (
        Team.objects.filter(structure_id__in=wanted)
        .order_by("-pk")
        .values_list("structure_id", "pk")
    ):
        teams[structure_id] = team_id  # the last written is the smallest pk
    missing = wanted - teams.keys()
    Team.objects.bulk_create(
        [Team(structure_id=s, name=TEAM_NAME) for s in missing], batch_size=500
    )
    teams.update(
        Team.objects.filter(structure_id__in=missing, name=TEAM_NAME).values_list(
            "structure_id", "pk"
        )
    )
    return teams


def set_default_teams(apps, model: str, structure_field: str, team_field: str) -> None:
    """Give every row of `model` the first team of the structure it names."""
    Model = apps.get_model(*model.split("."))
    teams = default_teams(apps, Model.objects.values_list(structure_field, flat=True).distinct())
    for structure_id, team_id in teams.items():
        Model.objects.filter(**{structure_field: structure_id}).update(**{team_field: team_id})


def keep_one_per_structure(apps, model: str, owner_field: str) -> None:
    """Going back to one row per (owner, structure): keep the oldest, drop the other teams'."""
    Model = apps.get_model(*model.split("."))
    seen: set[tuple[int, int]] = set()
    extra = []
    for pk, owner, structure in Model.objects.order_by("pk").values_list(
        "pk", owner_field, "structure_id"
    ):
        if (owner, structure) in seen:
            extra.append(pk)
        seen.add((owner, structure))
    Model.objects.filter(pk__in=extra).delete()
