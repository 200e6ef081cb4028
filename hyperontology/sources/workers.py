"""Reader processes (``ingest --jobs N``) that never outlive the process that started them.

A worker of a process pool waits for work on a pipe; when the ingesting process is killed (SIGKILL gives it no
chance to stop its pool), nothing tells the workers, and they would stay. :func:`watch_parent`, the pool's
initializer, makes each worker end with its parent:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment its parent dies;
- everywhere, a daemon thread that exits the worker as soon as its parent process id changes (an orphan is
  adopted by another process), checked every :data:`POLL_SECONDS`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["POLL_SECONDS", "watch_parent"]

POLL_SECONDS = 0.25
_PR_SET_PDEATHSIG = 1


def _death_signal() -> None:
    """Ask the Linux kernel to SIGKILL this process when its parent dies (no-op elsewhere or if unavailable)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)


def watch_parent(parent: int) -> None:
    """Pool initializer: end this worker when the process ``parent`` (its parent) is gone.

    Examples
    --------
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> with ProcessPoolExecutor(1, initializer=watch_parent, initargs=(os.getpid(),)) as pool:
    ...     pool.submit(abs, -1).result()
    1
    """
    _death_signal()
    if os.getppid() != parent:  # the parent died before the death signal was set
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="watch-parent", daemon=True).start()
