"""Insert-or-keep and insert-or-update in one statement, on PostgreSQL and SQLite alike.

Looking a row up and inserting it when absent races: two requests both find nothing, both
insert, and the second meets the unique constraint (a 500, or a rolled-back request). An
INSERT ... ON CONFLICT lets the database settle it: one row, no error, no savepoint.
SQLAlchemy builds the statement through each database's own insert construct.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    try:
        return _INSERTS[dialect](model)
    except KeyError:
        raise RuntimeError(f"no upsert for the {dialect} database") from None


def insert_or_keep(model, values: Mapping, *, conflict: Iterable[str],
                   where=None) -> bool:
    """Insert a row unless one with the same `conflict` columns exists (`where`: the
    predicate of a partial unique index); True when this call inserted it."""
    statement = _insert(model).values(**values).on_conflict_do_nothing(
        index_elements=list(conflict), index_where=where)
    return db.session.execute(statement).rowcount == 1


def insert_or_update(model, values: Mapping, *, conflict: Iterable[str],
                     update: Iterable[str], where=None) -> None:
    """Insert a row, or when one with the same `conflict` columns exists, give it the new
    row's `update` columns (`where`: the predicate of a partial unique index)."""
    statement = _insert(model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict), index_where=where,
        set_={column: statement.excluded[column] for column in update})
    db.session.execute(statement)
