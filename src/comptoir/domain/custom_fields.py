"""Custom field values as plain data: what each data type accepts, the text it is stored as (one
atomic value per row, so that lists filter in SQL), and the typed value it is shown as again.

Stored forms: STRING as given; NUMBER as a plain decimal without exponent or trailing zeros ("12.5",
"-3", "1000"); BOOLEAN "true" or "false"; DATE "YYYY-MM-DD"; SELECT one label; MULTI_SELECT one
label per row, in the order sent, each once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

ENTITY_TYPES = ("CUSTOMER", "INVOICE", "CREDIT_NOTE", "PAYMENT")
DATA_TYPES = ("STRING", "NUMBER", "BOOLEAN", "DATE", "SELECT", "MULTI_SELECT")
SELECTS = ("SELECT", "MULTI_SELECT")
VALUE_LENGTH_MAX = 1024  # custom_field_values.value
LABEL_LENGTH_MAX = 255  # custom_field_options.label
NUMBER_LENGTH_MAX = 64  # digits of a number in its stored form


class Refused(ValueError):
    """A value a data type does not accept; the message says what it expects."""


def atoms(data_type: str, value: Any) -> list[str]:
    """The stored texts of a value sent for a field of this data type; [] clears the field (null,
    or an empty list). Raises Refused for a value of the wrong type or out of bounds."""
    if value is None or value == []:
        return []
    if data_type == "MULTI_SELECT":
        items = value if isinstance(value, list) else [value]
        labels = [_label(item) for item in items]
        return list(dict.fromkeys(labels))
    if isinstance(value, list):
        raise Refused(f"a {data_type} field takes one value, not a list")
    if data_type == "SELECT":
        return [_label(value)]
    if data_type == "STRING":
        if not isinstance(value, str):
            raise Refused("a STRING field takes a string")
        if len(value) > VALUE_LENGTH_MAX:
            raise Refused(f"at most {VALUE_LENGTH_MAX} characters")
        return [value]
    if data_type == "NUMBER":
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise Refused("a NUMBER field takes a number")
        return [_number(Decimal(str(value)) if isinstance(value, float) else Decimal(value))]
    if data_type == "BOOLEAN":
        if not isinstance(value, bool):
            raise Refused("a BOOLEAN field takes true or false")
        return ["true" if value else "false"]
    if data_type == "DATE":
        if not isinstance(value, str):
            raise Refused("a DATE field takes a date, YYYY-MM-DD")
        return [_day(value)]
    raise Refused(f"unknown data type {data_type}")


def filter_atom(data_type: str, text: str) -> str:
    """The stored text a filter's value (`customFieldData_<id>.eq=<text>`) matches."""
    if data_type in ("STRING", "SELECT", "MULTI_SELECT"):
        return text
    if data_type == "BOOLEAN":
        if text.lower() not in ("true", "false"):
            raise Refused("a BOOLEAN field is filtered by true or false")
        return text.lower()
    if data_type == "NUMBER":
        try:
            return _number(Decimal(text.strip()))
        except InvalidOperation:
            raise Refused("a NUMBER field is filtered by a number") from None
    if data_type == "DATE":
        return _day(text)
    raise Refused(f"unknown data type {data_type}")


def typed(data_type: str, stored: list[str]) -> Any:
    """The wire value of a field's stored texts: SELECT {"label"}, MULTI_SELECT a list of them,
    BOOLEAN a bool, NUMBER an int or an exact Decimal, STRING and DATE a string."""
    if data_type == "MULTI_SELECT":
        return [{"label": label} for label in stored]
    if not stored:
        return None
    text = stored[-1]
    if data_type == "SELECT":
        return {"label": text}
    if data_type == "BOOLEAN":
        return text == "true"
    if data_type == "NUMBER":
        number = Decimal(text)
        return int(number) if number == number.to_integral_value() else number
    return text


def _label(item: Any) -> str:
    label = item.get("label") if isinstance(item, dict) else item
    if not isinstance(label, str) or label == "":
        raise Refused('a select value is {"label": "<text>"}, with a label that is not empty')
    if len(label) > LABEL_LENGTH_MAX:
        raise Refused(f"a label has at most {LABEL_LENGTH_MAX} characters")
    return label


def _number(number: Decimal) -> str:
    """Exact, never rounded: the digits as sent, without exponent or trailing zeros."""
    if not number.is_finite():
        raise Refused("a number must be finite")
    if number.is_zero():
        return "0"
    if number.adjusted() >= NUMBER_LENGTH_MAX or number.as_tuple().exponent < -NUMBER_LENGTH_MAX:
        raise Refused(f"a number has at most {NUMBER_LENGTH_MAX} digits before and after the point")
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _day(text: str) -> str:
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise Refused("a date is YYYY-MM-DD (or an ISO 8601 date-time)") from None
