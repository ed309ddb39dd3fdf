"""Printing helpers shared by commands: rich tables on a chosen stream."""

from __future__ import annotations

import sys
from typing import Any, Sequence, TextIO


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file or sys.stdout, width=120, highlight=False)
    table = Table()
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    console.print(title, markup=False)
    console.print(table)
