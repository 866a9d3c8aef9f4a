"""Ctrl-C for a service started by `make run`: the service takes the terminal's foreground.

A terminal sends Ctrl-C's SIGINT to its whole foreground process group. Started by `make run`,
that group holds make as well as the service, and GNU make ends by that signal (exit 130)
whatever its recipe returns, although the service itself stops cleanly with 0. So when the
Makefile asks for it (LINEAGE_OWN_TERMINAL=1) and standard input is a terminal, `lineage serve`
moves into a process group of its own and makes that the terminal's foreground, as a shell does
for a job: Ctrl-C then reaches only the service (and the processes it starts), make sees it exit
0 and exits 0 too. The foreground goes back to the group that had it on the way out.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

ASK = "LINEAGE_OWN_TERMINAL"


@contextmanager
def own_foreground() -> Iterator[None]:
    """Hold the terminal's foreground for the block, where asked and possible; else nothing."""
    fd = sys.stdin.fileno() if sys.stdin is not None else -1
    if os.environ.get(ASK) != "1" or fd < 0 or not os.isatty(fd):
        yield
        return
    try:
        previous = os.tcgetpgrp(fd)
        # A background group that changes the foreground gets SIGTTOU; ignored, the call works.
        before = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        os.setpgid(0, 0)
        os.tcsetpgrp(fd, os.getpgrp())
    except OSError:  # no job control here (a session leader, a terminal of another session)
        yield
        return
    try:
        yield
    finally:
        try:
            os.tcsetpgrp(fd, previous)
        except OSError:
            pass  # the group that had it is gone: nobody waits for the terminal
        signal.signal(signal.SIGTTOU, before)
