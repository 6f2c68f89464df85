"""Declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


ID_MAX = 2**31 - 1  # integer primary keys are 32-bit on PostgreSQL: a larger id names no row


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def result_processor(self, dialect, coltype):
        """The stored naive UTC back as aware UTC, in one call a value: TypeDecorator's own chain through
        ``process_result_value`` takes three, and the board reads 7,000 of these a request. The driver's own
        conversion (SQLite's text) still comes first."""
        impl = self.impl_instance.result_processor(dialect, coltype)
        if impl is None:
            return lambda value: None if value is None else value.replace(tzinfo=UTC)
        return lambda value: None if (value := impl(value)) is None else value.replace(tzinfo=UTC)


class ReadableJSON(TypeDecorator):
    """JSON that reads back as None when what is stored is not JSON at all (a row edited by hand: SQLite keeps any
    text; PostgreSQL's json type refuses it), so a reader that cannot use it says so (``readable_state``) instead of
    failing the query that loaded it. The same column type: no schema change."""

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect, coltype):
        """The impl's decoding, with text that is not JSON read as None."""
        impl = super().result_processor(dialect, coltype)
        if impl is None:
            return None

        def process(value):
            try:
                return impl(value)
            except ValueError:  # json.JSONDecodeError
                return None

        return process


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)


class StrEnumColumn(TypeDecorator):
    """A ``StrEnum`` stored as its plain string value, loaded back as the enum (an unknown value stays a str)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls, length: int = 16) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value, dialect):
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return self.enum_cls(value)
        except ValueError:  # a value written by a newer release: show it rather than fail the page
            return value
