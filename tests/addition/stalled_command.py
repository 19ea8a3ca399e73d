"""Runs the `keras-gru-cell` command, which stalls after its first backup.

Run as a script by tests/addition/test_multiprocess.py:
`python stalled_command.py MARKER ARGUMENTS...`, where ARGUMENTS are the
command's. Once the first backup is written, it creates the file MARKER and
sleeps, so that the test can kill it mid-run at a known step, not at a moment.
"""

import os
import sys
import time
from pathlib import Path

# As long as the test waits for anything.
STALL_SECONDS = 300


def _stall_after_first_backup(marker):
    from keras_gru_cell.addition.training import callbacks

    original = callbacks.Backup.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        original(self, epoch, logs)
        marker.touch()
        time.sleep(STALL_SECONDS)

    callbacks.Backup.on_epoch_end = on_epoch_end


if __name__ == "__main__":
    marker, *arguments = sys.argv[1:]
    import _keras_gru_cell_launcher as launcher
    from _keras_gru_cell_process import quiet_stderr

    # Keras, imported here first, loads the backend: quietly, as the command
    # would.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        _stall_after_first_backup(Path(marker))
    sys.argv = ["keras-gru-cell", *arguments]
    sys.exit(launcher.main())
