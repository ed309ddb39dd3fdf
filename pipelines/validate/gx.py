"""Great Expectations behind one small class: suites from check tables, runs on pandas frames, Data Docs.

GX is imported here only, on first use (it takes seconds), with its analytics off. The context is
ephemeral; the Data Docs site is written to a folder of the report. Each run of a check table on a
frame is one GX validation (named by its chunk), so the docs show every chunk's results.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from pipelines.validate.offline_docs import make_offline
from pipelines.validate.spec import CheckTable

EXAMPLES = 20   # failing row ids kept per check


@dataclass
class Outcome:
    """One expectation's result, summed over every chunk it ran on."""

    table: str
    expectation: str
    column: str
    about: str
    key: str
    success: bool = True
    rows: int = 0
    failing: int = 0
    examples: list[Any] = field(default_factory=list)

    def add(self, result: Any) -> None:
        r = result.result or {}
        self.success = self.success and bool(result.success)
        self.rows += int(r.get("element_count") or 0)
        self.failing += int(r.get("unexpected_count") or 0)
        for item in r.get("partial_unexpected_index_list") or []:
            key = _plain(item.get(self.key))
            if len(self.examples) < EXAMPLES and key not in self.examples:
                self.examples.append(key)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, so results serialise."""
    return value.item() if hasattr(value, "item") else value


class GxRunner:
    def __init__(self, docs_dir: str) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig,
        )

        self._gx = gx
        self.docs_dir = os.path.abspath(docs_dir)
        shutil.rmtree(self.docs_dir, ignore_errors=True)   # the pages of an earlier run would linger
        site = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": self.docs_dir},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        self.ctx = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            data_docs_sites={"vrft": site}, progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        ))
        self.source = self.ctx.data_sources.add_pandas("vrft")
        self._defs: dict[str, Any] = {}
        self.outcomes: dict[tuple[str, int], Outcome] = {}

    def _definition(self, table: CheckTable) -> Any:
        if table.name not in self._defs:
            import great_expectations.expectations as gxe

            gx = self._gx
            batch = self.source.add_dataframe_asset(table.name).add_batch_definition_whole_dataframe("all")
            suite = self.ctx.suites.add(gx.ExpectationSuite(name=table.name))
            for e in table.expectations:
                suite.add_expectation(getattr(gxe, e.type)(**e.kwargs))
            self._defs[table.name] = self.ctx.validation_definitions.add(
                gx.ValidationDefinition(name=table.name, data=batch, suite=suite)
            )
        return self._defs[table.name]

    def run(self, table: CheckTable, frame: pd.DataFrame, chunk: str) -> None:
        """Validate `frame` against `table`; results are added to `outcomes` by expectation."""
        if not table.expectations or frame.empty:
            return
        from great_expectations.core.run_identifier import RunIdentifier

        result = self._definition(table).run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "SUMMARY", "unexpected_index_column_names": [table.key],
                           "partial_unexpected_count": EXAMPLES},
            run_id=RunIdentifier(run_name=chunk),
        )
        for i, (e, r) in enumerate(zip(table.expectations, _in_suite_order(table, result.results))):
            out = self.outcomes.setdefault(
                (table.name, i), Outcome(table.name, e.type, e.column, e.about, table.key)
            )
            out.add(r)

    def build_docs(self) -> str:
        """Write the Data Docs site; returns the path of its index.html."""
        self.ctx.build_data_docs(site_names=["vrft"])
        make_offline(self.docs_dir)  # its pages readable without the CDNs they load from
        return os.path.join(self.docs_dir, "index.html")


def _in_suite_order(table: CheckTable, results: Sequence[Any]) -> list[Any]:
    """GX may reorder results; match each back to its expectation by type and kwargs."""
    remaining = list(results)
    ordered = []
    for e in table.expectations:
        for j, r in enumerate(remaining):
            cfg = r.expectation_config
            if cfg.type == _snake(e.type) and all(cfg.kwargs.get(k) == v for k, v in e.kwargs.items()):
                ordered.append(remaining.pop(j))
                break
        else:
            raise RuntimeError(f"no GX result for {e.type} {dict(e.kwargs)} in {table.name}")
    return ordered


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out
