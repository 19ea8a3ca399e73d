"""`StopOnSignal`: SIGINT and SIGTERM end `model.fit` at its next backup."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

import keras

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _deferred(signum, frame):
    # Python's C-level handler has already written `signum` to the wakeup
    # pipe, which `StopOnSignal`'s thread reads: the work is done there.
    pass


class StopOnSignal(keras.callbacks.Callback):
    """Ends `model.fit` at the end of the epoch in which SIGINT or SIGTERM came.

    While `handling()` is active, the first SIGINT (Ctrl-C) or SIGTERM only
    records the signal and prints one line at once; training goes on to the
    end of the current epoch, where the run's other `on_epoch_end` callbacks
    back it up, and stops there. The epoch, not the step, is the unit: the
    history's training metrics are Keras's means over an epoch, so only a
    run that stops at an epoch's end resumes into the very history an
    uninterrupted run writes. A second signal ends the process at once with
    status 128 + its number; the last backup, written atomically, is still
    whole.

    Nothing here raises from a signal handler: a thread reads the signals
    from Python's wakeup pipe, which the interpreter writes as a signal
    arrives, so the line shows and the second signal acts even while the
    main thread is busy in compiled code (an XLA compilation, say), and no
    exception can be dropped on its way up.

    Any `model.fit` can use it, with any backup callback:

    ```python
    stop = StopOnSignal()
    with stop.handling():
        model.fit(
            dataset,
            epochs=20,
            callbacks=[keras.callbacks.BackupAndRestore("backup"), stop],
        )
    if stop.signum is not None:
        ...  # stopped early: the backup resumes it
    ```

    Args:
        announce: Whether to print the line on stderr at the first signal.

    Attributes:
        signum: The first signal received, or `None`.
    """

    def __init__(self, *, announce: bool = True):
        super().__init__()
        self.announce = announce
        self.signum: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        if self.signum is not None:
            self.model.stop_training = True

    @contextlib.contextmanager
    def handling(self) -> Iterator[StopOnSignal]:
        """Handles SIGINT and SIGTERM, then puts their handlers back.

        Only the main thread can set handlers; in another, and for a signal
        that was ignored when this began, nothing changes. Yields `self`.
        """
        self.signum = None
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {
            signum: signal.getsignal(signum)
            for signum in _SIGNALS
            if signal.getsignal(signum) is not signal.SIG_IGN
        }
        if not previous:
            yield self
            return
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        previous_wakeup_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        watcher = threading.Thread(
            target=self._watch,
            args=(read_fd, set(previous)),
            name="StopOnSignal",
            daemon=True,
        )
        watcher.start()
        try:
            for signum in previous:
                signal.signal(signum, _deferred)
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_wakeup_fd)
            # A zero byte, never a signal number, tells the thread to end.
            os.write(write_fd, b"\0")
            watcher.join()
            os.close(read_fd)
            os.close(write_fd)

    def _watch(self, read_fd: int, signums: set[int]) -> None:
        while True:
            for signum in os.read(read_fd, 64):
                if signum == 0:
                    return
                if signum in signums:
                    self._received(signum)

    def _received(self, signum: int) -> None:
        if self.signum is not None:
            if self.announce:
                with contextlib.suppress(OSError):
                    os.write(2, b"interrupted again: stopped now\n")
            os._exit(128 + signum)
        self.signum = signum
        if self.announce:
            with contextlib.suppress(OSError):
                os.write(
                    2,
                    b"interrupted: stopping at the end of this epoch, after its "
                    b"backup; Ctrl-C again to stop now\n",
                )
