"""How a long-running process of the service (a web worker, the scheduler) treats
Python's garbage collector."""

from __future__ import annotations

import gc

# Python's defaults are (700, 10, 10).
GC_THRESHOLDS = (5000, 20, 100)


def freeze_long_lived() -> None:
    """Keep the garbage collector off what the process now holds for its whole life.

    The app, its templates, mappers and compiled statements are never garbage, yet
    every full collection would walk them all again, and a page or a sweep that loads
    a few hundred rows allocates enough objects to set off many collections. Frozen,
    they are skipped; and collections come less often. Call it once the app is loaded.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
