"""SIGTERM as an interrupt (kill, scancel, Slurm's time limit): raised once, delivered again when
Python drops it, and held back from writes that must not be torn."""

import os
import signal
import time
import weakref

import pytest

from qnn.interrupts import Terminated, signals_held, sigterm_interrupts


def wait_for_signal(seconds: float = 5.0) -> None:
    """Run bytecodes for a while: a pending signal handler runs between any two of them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_first_sigterm_interrupts_and_later_ones_let_the_run_record_its_end():
    # Slurm's scancel signals the job step and srun forwards it: the second SIGTERM must not
    # break off the handling of the first (the run would stay RUNNING, then be SIGKILLed)
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_interrupts():
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
            wait_for_signal()
        os.kill(os.getpid(), signal.SIGTERM)  # ignored while the run records its end
        wait_for_signal(0.1)
    assert signal.getsignal(signal.SIGTERM) is before  # put back afterwards
    with sigterm_interrupts(), pytest.raises(Terminated):  # a new block: a new interrupt
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for_signal()


def test_nested_blocks_interrupt_once_until_the_outermost_ends():
    # a sweep task wraps the run it launches, and both turn SIGTERM into an interrupt
    with sigterm_interrupts():
        with sigterm_interrupts(), pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            wait_for_signal()
        os.kill(os.getpid(), signal.SIGTERM)  # the task releases its QPUs undisturbed
        wait_for_signal(0.1)


def test_a_sigterm_that_python_drops_inside_a_finalizer_is_delivered_again():
    # h5py runs a weakref callback for every identifier it frees. A handler's exception
    # raised there is printed as "Exception ignored" and dropped: the run went on, deaf to
    # further SIGTERMs, until Slurm's SIGKILL left it RUNNING.
    class Probe:
        pass

    with sigterm_interrupts(), pytest.raises(Terminated):
        probe = Probe()
        finalizer = weakref.ref(probe, lambda ref: signal.raise_signal(signal.SIGTERM))
        del probe  # the callback runs now, and the handler inside it
        assert finalizer() is None
        wait_for_signal()


def test_held_signals_act_after_the_block_once_each():
    with sigterm_interrupts():
        done = []
        with pytest.raises(Terminated), signals_held():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            wait_for_signal(0.1)
            done.append("write")
        assert done == ["write"]
    with pytest.raises(KeyboardInterrupt), signals_held():
        signal.raise_signal(signal.SIGINT)
        done.append("another")
    assert done == ["write", "another"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
