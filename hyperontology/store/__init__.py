"""A node's store: embedded (pyoxigraph on disk) or remote (SPARQL 1.1 + Graph Store Protocol), one contract."""

from hyperontology.store.base import GRAPHS, Store, StoreError, open_store

__all__ = ["GRAPHS", "Store", "StoreError", "open_store"]
