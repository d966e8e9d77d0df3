"""How a run stops when asked, without losing what it finished.

``kill``, Slurm's ``scancel`` and its time limit send SIGTERM; :func:`sigterm_interrupts` turns
it into a :class:`KeyboardInterrupt`, as Ctrl-C is, so that Sacred records the run as
INTERRUPTED and its checkpoint stays. Python runs a signal handler between any two bytecodes,
which leaves two ways to lose work:

* an interrupt in the middle of a write that takes several steps (move an HDF5 entry into
  place, then append its manifest line) tears it; :func:`signals_held` keeps Ctrl-C and
  SIGTERM waiting until such a write ends;
* an interrupt raised while Python runs a finalizer or a weakref callback (h5py runs one for
  every HDF5 identifier it frees) is printed as "Exception ignored" and dropped; the run
  would go on until Slurm's SIGKILL and stay RUNNING. :func:`sigterm_interrupts` notices the
  dropped interrupt and delivers it again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """The KeyboardInterrupt that SIGTERM raises within :func:`sigterm_interrupts`."""


# One interrupt per SIGTERM'd run: Slurm signals the job step and srun forwards the signal
# too, and a second KeyboardInterrupt would break off Sacred's recording of the first.
_interrupted = threading.Event()


def _interrupt(signum: int, frame: object) -> None:
    if _interrupted.is_set():
        return  # the run is already ending; SIGKILL still follows KillWait seconds later
    _interrupted.set()
    raise Terminated(f"signal {signal.Signals(signum).name}: stopped (kill, scancel or the "
                     "time limit)")


def _deliver_again() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block the first SIGTERM raises :class:`Terminated` (a KeyboardInterrupt)
    and later ones are ignored; one that Python drops (raised inside a finalizer) is
    delivered again. Nested blocks share that state; outside the main thread this does
    nothing, as signals are only handled there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outermost = signal.getsignal(signal.SIGTERM) is not _interrupt
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    previous_hook = sys.unraisablehook

    def redeliver_dropped(unraisable) -> None:
        if not isinstance(unraisable.exc_value, Terminated):
            previous_hook(unraisable)
            return
        _interrupted.clear()
        # A moment later, from another thread: the handler then runs in the main thread's
        # own code, not again inside the finalizer running now (if it does, this repeats).
        again = threading.Timer(0.01, _deliver_again)
        again.daemon = True
        again.start()

    sys.unraisablehook = redeliver_dropped
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGTERM, previous_handler)
        if outermost:
            _interrupted.clear()


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends, then act as they would have (raise
    KeyboardInterrupt, or end the process where nothing handles them). For writes that must
    not be torn; keep the block short. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for signum in HELD_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is None:  # installed outside Python: cannot be put back, so left alone
            continue
        previous[signum] = handler
        signal.signal(signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)
