"""The id of the transaction writing a row, as a column default (the change feed's order, ``app.services.event_feed``).

PostgreSQL hands out transaction ids when a transaction first writes, not when it commits, so neither
``id`` nor ``at`` of a log line says whether a reader could already have seen it; a snapshot
(``pg_current_snapshot()``) says which transactions had committed, and the line's ``txid`` places it
against one. SQLite has no transaction ids and needs none: one writer at a time holds the database,
so its lines commit in ``id`` order; they keep 0.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

POSTGRESQL_DEFAULT = "(pg_current_xact_id()::text::bigint)"  # the top-level transaction's, also in a savepoint


class writing_transaction(FunctionElement):  # noqa: N801 - named as SQL functions are
    """The server default of ``incident_events.txid``."""

    type = BigInteger()
    inherit_cache = True


@compiles(writing_transaction)
def _elsewhere(_element, _compiler, **_kw) -> str:
    return "0"


@compiles(writing_transaction, "postgresql")
def _postgresql(_element, _compiler, **_kw) -> str:
    return POSTGRESQL_DEFAULT
