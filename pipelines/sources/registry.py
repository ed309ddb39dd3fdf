"""Adapters keyed by the dataset name given to `vrft ingest`; unknown or duplicate names raise."""

from __future__ import annotations

from pipelines.sources.base import Adapter

_ADAPTERS: dict[str, Adapter] = {}


def register_adapter(adapter: Adapter) -> Adapter:
    if adapter.name in _ADAPTERS:
        raise ValueError(f"an adapter is already registered as {adapter.name!r}")
    _ADAPTERS[adapter.name] = adapter
    return adapter


def get_adapter(name: str) -> Adapter:
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(_ADAPTERS))}") from None


def adapter_names() -> tuple[str, ...]:
    return tuple(sorted(_ADAPTERS))


def unregister_adapter(name: str) -> None:
    """For tests that register an adapter of their own."""
    _ADAPTERS.pop(name, None)
