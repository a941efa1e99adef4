"""Column types that keep money exact on every database we support."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.types import TypeDecorator

from comptoir.domain.money import plain

SCALE = 6


class ExactDecimal(TypeDecorator):
    """A Decimal with six decimal places (or `scale`: an exchange rate keeps ten), never a float.

    PostgreSQL stores NUMERIC(24, 6). SQLite has no exact decimal type (its NUMERIC affinity turns
    values into floats), so there the value is stored as an integer count of millionths (of 10^-scale):
    sums, comparisons and sorting stay exact and keep working inside the database.
    """

    impl = Numeric(24, SCALE)
    cache_ok = True

    def __init__(self, precision: int = 24, scale: int = SCALE) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self.impl = Numeric(precision, scale)
        self.factor = Decimal(10) ** scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "sqlite":
            return int((value * self.factor).to_integral_value())
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return plain(Decimal(int(value)) / self.factor)
        return plain(Decimal(value))
