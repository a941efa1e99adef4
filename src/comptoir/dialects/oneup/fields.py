"""Field types of OneUp's JSON, with the parsing rules of the conventions seed: unknown fields are
ignored, a value of the wrong JSON type is a parse error, a value outside its allowed set or
longer than its maximum is a specification error."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic_core import PydanticCustomError

# Numbers beyond this magnitude are refused: no amount of a real book gets near it, and NUMERIC(24, 6)
# columns hold 18 integer digits.
NUMBER_MAGNITUDE_MAX = Decimal(10) ** 15
DECIMAL_PLACES_MAX = 6  # what the book stores
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Pydantic error types that mean "the JSON value has the wrong type" (code 5 rather than code 3).
TYPE_ERRORS = {
    "string_type", "int_type", "bool_type", "number_type", "model_type", "list_type", "dict_type",
    "date_type", "model_attributes_type", "int_from_float", "is_instance_of",
}


class WireModel(BaseModel):
    """An input object: unknown keys ignored, no coercion between JSON types."""

    model_config = ConfigDict(extra="ignore", strict=True)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise PydanticCustomError("number_type", "Input should be a number")
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= NUMBER_MAGNITUDE_MAX:
        raise PydanticCustomError("number_range", "Number is out of range")
    if value.as_tuple().exponent < -DECIMAL_PLACES_MAX:
        raise PydanticCustomError("number_precision", "Number has more than {places} decimal places",
                                  {"places": DECIMAL_PLACES_MAX})
    return value


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise PydanticCustomError("date_type", "Input should be a date as yyyy-MM-dd")
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_format", "Date should be formatted as yyyy-MM-dd") from None


def _integer(value: Any) -> Any:
    """An integer, also when written with a decimal point and nothing after it but zeros (`1.0`): a
    client that reads an object into float-typed fields sends its ids and statuses back so, at any
    depth. `1.5` and JSON true are not integers (the strict check that follows refuses them)."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def Choice(*allowed: int) -> Any:  # noqa: N802 - reads as a type in models
    """An integer from a fixed set (`type`: 1 or 2). JSON true is not the integer 1 here."""

    def check(value: int) -> int:
        if value not in allowed:
            raise PydanticCustomError("literal_error", "Input should be one of {allowed}",
                                      {"allowed": ", ".join(map(str, allowed))})
        return value

    return Annotated[StrictInt, BeforeValidator(_integer), AfterValidator(check)]


def TextChoice(*allowed: str) -> Any:  # noqa: N802 - reads as a type in models
    """A string from a fixed set (`way`: "debit" or "credit")."""

    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError("literal_error", "Input should be one of {allowed}",
                                      {"allowed": ", ".join(allowed)})
        return value

    return Annotated[str, AfterValidator(check)]


Number = Annotated[Decimal, BeforeValidator(_number)]
Day = Annotated[date, BeforeValidator(_date)]
Integer = Annotated[StrictInt, BeforeValidator(_integer), Field(ge=-(2**63), le=2**63 - 1)]
Flag = StrictBool


def Text(length_max: int | None = None) -> Any:  # noqa: N802 - reads as a type in models
    return Annotated[str, Field(max_length=length_max)] if length_max else str


class Ref(WireModel):
    """A reference written as a nested object, {"id": 1, "name": ...}: only the id is read."""

    id: Integer
