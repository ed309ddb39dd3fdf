"""Adapters keyed by the dataset name given to `vrft ingest`; unknown or duplicate names raise."""

from __future__ import annotations

from pipelines.sources.base import Adapter
from schemas.registry import Registry

_ADAPTERS: Registry[Adapter] = Registry("dataset")


def register_adapter(adapter: Adapter) -> Adapter:
    return _ADAPTERS.add(adapter.name, adapter)


def get_adapter(name: str) -> Adapter:
    return _ADAPTERS.get(name)


def adapter_names() -> tuple[str, ...]:
    return tuple(sorted(_ADAPTERS.names()))
