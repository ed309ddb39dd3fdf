"""The built-in label types. Importing this package registers them (in this order)."""

from schemas.labels.span import SPAN
from schemas.labels.spanset import SPANSET
from schemas.labels.choice import CHOICE, option_letter
from schemas.labels.boxtrack import BOXTRACK

__all__ = ["SPAN", "SPANSET", "BOXTRACK", "CHOICE", "option_letter"]
