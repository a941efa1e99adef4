"""A list query in core terms: conditions on attributes, an order, a page. Dialects build these
from their own grammar (OneUp `date=gte:2020-01-01`, Quipu `filter[...]`); repositories run them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Op(str, Enum):
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    EQ = "eq"
    NOT = "not"
    IN = "in"
    CONTAINS = "contains"  # text containing the value, whatever the case


@dataclass(frozen=True)
class Condition:
    attribute: str
    op: Op
    value: Any


@dataclass(frozen=True)
class Order:
    attribute: str
    descending: bool = False


@dataclass(frozen=True)
class ListQuery:
    conditions: tuple[Condition, ...] = ()
    order: tuple[Order, ...] = ()
    offset: int = 0
    limit: int = 100
