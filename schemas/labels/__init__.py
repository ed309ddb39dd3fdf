"""The built-in label types. Importing this package registers them (in this order)."""

from schemas.labels.span import SPAN, Span
from schemas.labels.spanset import SPANSET, SpanSet
from schemas.labels.choice import CHOICE, Choice, option_letter
from schemas.labels.boxtrack import BOXTRACK, Box, BoxTrack

__all__ = ["SPAN", "SPANSET", "BOXTRACK", "CHOICE", "Span", "SpanSet", "Box", "BoxTrack", "Choice", "option_letter"]
