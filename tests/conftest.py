"""Suite-wide setup."""

import signal


def pytest_configure(config):
    # A shell without job control starts background commands (`cmd &`, nohup) with SIGINT
    # ignored, and Python then installs no Ctrl-C handler, so the tests of what Ctrl-C does
    # would see nothing happen. Python's own handler puts it back; children spawned by the
    # tests get the default action on exec and install Python's handler themselves.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
