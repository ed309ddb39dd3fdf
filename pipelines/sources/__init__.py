"""Raw-format adapters, one module per format; importing this package registers them.

    from pipelines.sources import get_adapter
    adapter = get_adapter("charades-sta")
"""

from pipelines.sources import (  # noqa: F401  (each module registers its adapter)
    activitynet_captions,
    charades_sta,
    got10k,
    jsonl,
    nextgqa,
    nextqa,
    timezero,
    video_r1,
    videochat_r1,
)
from pipelines.sources.base import Adapter, RawRecord, Rejected, SourceOptions
from pipelines.sources.registry import adapter_names, get_adapter, register_adapter

__all__ = ["Adapter", "RawRecord", "Rejected", "SourceOptions", "adapter_names", "get_adapter", "register_adapter"]
