"""Column types that keep money exact on every database we support."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.types import TypeDecorator

from comptoir.domain.money import plain

SCALE = 6
_FACTOR = Decimal(10) ** SCALE


class ExactDecimal(TypeDecorator):
    """A Decimal with six decimal places, never a float.

    PostgreSQL stores NUMERIC(24, 6). SQLite has no exact decimal type (its NUMERIC affinity turns
    values into floats), so there the value is stored as an integer count of millionths: sums,
    comparisons and sorting stay exact and keep working inside the database.
    """

    impl = Numeric(24, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "sqlite":
            return int((value * _FACTOR).to_integral_value())
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return plain(Decimal(int(value)) / _FACTOR)
        return plain(Decimal(value))
