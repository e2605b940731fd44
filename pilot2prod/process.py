"""How a playbook process ends."""

from __future__ import annotations

import atexit
import gc


def skip_final_collection() -> None:
    """Spare the process the garbage collection Python runs as it ends.

    That last collection walks every object pandas, Ibis, matplotlib and nbconvert created: it
    took 0.8 s of every notebook kernel's shutdown and a good part of the command line's exit,
    for memory the operating system takes back anyway. Freezing the objects at exit leaves them
    out of it. Everything else still runs: other exit handlers, ``weakref.finalize`` callbacks
    (temporary folders are removed) and every object freed by its last reference going (files
    written with ``with`` are closed long before). Registered once, however often called."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
