"""Helpers shared by data migrations."""


def check_constraints_now(schema_editor) -> None:
    """PostgreSQL checks foreign keys at commit; the schema changes that follow a data change in
    the same transaction need those checks done first."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
