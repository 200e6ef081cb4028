"""Launcher for the page tests: the node's app plus the query page, served by uvicorn on loopback.

Run as ``python tests/server/page_app.py --store DIR --port P`` (see ``test_page_browser.py``).
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from hyperontology.server import ServerSettings, create_app
from hyperontology.server.pages import pages_router


def build(store: str) -> FastAPI:
    app = create_app(ServerSettings(store=store))
    app.include_router(pages_router())
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.store), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
