"""The node's HTTP server: a SPARQL 1.1 Protocol endpoint and the semantic search API (FastAPI).

Examples
--------
>>> from hyperontology.server import ServerSettings
>>> ServerSettings(store="/tmp/store").max_rows
10000
"""

from __future__ import annotations

from hyperontology.server.app import create_app
from hyperontology.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
