"""What a run's notebook kernel does while it boots, besides its imports (:mod:`pilot2prod.lazy`).

The runner has the kernel call :func:`orderly_exit` first thing (``exec_lines``, see
:func:`pilot2prod.runner.started_kernel`).
"""

from __future__ import annotations

import atexit
import threading

#: How long the kernel's exit waits for its control thread to finish answering the shutdown
#: request (it needs milliseconds; the runner stops waiting for the kernel after 2.5 s).
CONTROL_GRACE_SECONDS = 2.0


def orderly_exit() -> None:
    """Have the kernel's exit let its control thread finish before the IOPub thread stops.

    ipykernel (7.4) answers a shutdown request on its control thread: it stops the main loop,
    then flushes standard output through the IOPub thread and waits for that flush. The main
    thread meanwhile leaves its loop and, at exit, stops the IOPub thread before it joins the
    control thread. When the IOPub thread stops first, the flush waits out its ten-second
    timeout and the runner terminates the kernel after 2.5 s (about one run in ten here; the
    same hang as posit-dev/positron#7142). Exit handlers run last registered first, so the one
    registered here, after the kernel's own, joins the control thread while the IOPub thread
    still runs."""
    atexit.register(_join_control_thread)


def _join_control_thread() -> None:
    from ipykernel.kernelapp import IPKernelApp

    if not IPKernelApp.initialized():
        return
    control = getattr(IPKernelApp.instance(), "control_thread", None)
    if control is None or not control.is_alive() or control is threading.current_thread():
        return
    control.stop()
    control.join(timeout=CONTROL_GRACE_SECONDS)
