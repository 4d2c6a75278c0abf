"""An OpenAI-compatible HTTP server for a nudged pair (``nudge-local serve``).

``create_app(nudger_or_loader, ...)`` builds the FastAPI application; run it with uvicorn.
It needs the ``server`` extra (``pip install 'nudge-local[server]'``). See docs/server.md.
"""

from __future__ import annotations

from ._app import create_app
from ._queue import GenerationQueue

__all__ = ["GenerationQueue", "create_app"]
