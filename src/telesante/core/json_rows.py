"""Related rows read as one column of their parent's row: a JSON array of objects.

A page's reverse foreign key (an enrolment's devices) read by `prefetch_related` costs one more
statement and a model instance a row; read inside the page's own statement, it costs neither."""

from django.db.models import JSONField, QuerySet, Subquery


class JSONRows(Subquery):
    """The rows of a `values(...)` queryset (an `OuterRef` to the parent, ordered) as a JSON
    array of objects keyed by those names, `[]` for none; read back as a list of dicts."""

    def __init__(self, queryset: QuerySet) -> None:
        if not queryset.query.values_select or queryset.query.annotation_select:
            raise TypeError("JSONRows reads a values() queryset of plain fields")
        super().__init__(queryset, output_field=JSONField())

    def resolve_expression(self, *args, **kwargs) -> "JSONRows":
        # Django drops the order of a subquery that is not sliced: here it is the array's.
        order = self.query.order_by
        resolved = super().resolve_expression(*args, **kwargs)
        resolved.query.order_by = order
        return resolved

    def _pairs(self, connection) -> str:
        """Each name of the values() and its column in the subquery's rows (`listed`), which
        Django names after the values() (`AS "enrolment"` for the column enrolment_id)."""
        quote = connection.ops.quote_name
        return ", ".join(f"'{name}', listed.{quote(name)}" for name in self.query.values_select)

    def as_postgresql(self, compiler, connection, **extra) -> tuple[str, tuple]:
        # ARRAY() keeps the subquery's order.
        pairs = self._pairs(connection)
        return super().as_sql(compiler, connection, template=_POSTGRESQL, pairs=pairs, **extra)

    def as_sqlite(self, compiler, connection, **extra) -> tuple[str, tuple]:
        pairs = self._pairs(connection)
        return super().as_sql(compiler, connection, template=_SQLITE, pairs=pairs, **extra)


_POSTGRESQL = "to_jsonb(ARRAY(SELECT jsonb_build_object(%(pairs)s) FROM (%(subquery)s) listed))"
_SQLITE = "(SELECT json_group_array(json_object(%(pairs)s)) FROM (%(subquery)s) listed)"
