"""Built-in reward components (default profile). Importing this package registers them."""

from rewards.components import boxtrack, choice, span, spanset  # noqa: F401
