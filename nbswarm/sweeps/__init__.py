"""Sweeps: compare prompt variants x models x inputs live, on asyncio, worker processes or Ray.

``nbswarm.sweep(nbswarm.grid(...), make, task)`` -- see ``_api`` for the whole story.
"""

from __future__ import annotations

from ._api import BACKENDS, Sweep, sweep
from ._spec import grid

__all__ = ["BACKENDS", "Sweep", "grid", "sweep"]
