"""The vintaged store (DuckDB file), the raw-payload archive and the cross-source doctor."""

from smallcaps.errors import StoreError
from smallcaps.store.archive import Archive
from smallcaps.store.db import MirrorMark, Store, VintageData, WriteResult
from smallcaps.store.doctor import Reconciliation, reconcile

__all__ = [
    "Archive",
    "MirrorMark",
    "Reconciliation",
    "Store",
    "StoreError",
    "VintageData",
    "WriteResult",
    "reconcile",
]
