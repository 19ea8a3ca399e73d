"""Runs the `keras-gru-cell` command, which sends itself a signal at one moment.

Run as a script by tests/addition/test_signals.py:
`python signalled_command.py MOMENT SIGNAL ARGUMENTS...`, where SIGNAL is a name
such as SIGINT and ARGUMENTS are the command's. The signal is a real one, sent
with `os.kill` to this process, at MOMENT:

- `compile`: 50 ms after training begins, while the first step compiles;
- `training`: after step 60, in the middle of an epoch;
- `validation`: as the second validation begins;
- `backup`: as the second backup begins;
- `twice`: after step 60, and again 50 ms later;
- `saving`: as the trained model is written;
- `finished`: after the command has done its work;
- `predicting`: as `add` or `evaluate` first predicts;
- `exporting`: as `export` begins to write the SavedModel.
"""

import os
import signal
import sys
import threading


def _send(signum):
    os.kill(os.getpid(), signum)


def _before(owner, name, action):
    """Patches `owner.name` to run `action(self, call_number)` before it."""
    original = getattr(owner, name)
    calls = []

    def patched(self, *args, **kwargs):
        calls.append(None)
        action(self, len(calls))
        return original(self, *args, **kwargs)

    setattr(owner, name, patched)


def _arrange(moment, signum):
    import keras

    from keras_gru_cell.addition.training import callbacks

    def at_step_60(action):
        def check(log, call):
            if callbacks.optimizer_step(log.model) == 60:
                action()

        return check

    def twice():
        _send(signum)
        threading.Timer(0.05, _send, [signum]).start()

    actions = {
        "compile": (
            callbacks.HeldOutLog,
            "on_train_begin",
            lambda log, call: threading.Timer(0.05, _send, [signum]).start(),
        ),
        "training": (
            callbacks.HeldOutLog,
            "on_train_batch_end",
            at_step_60(lambda: _send(signum)),
        ),
        "validation": (
            callbacks.HeldOutLog,
            "_score",
            lambda log, call: call == 2 and _send(signum),
        ),
        "backup": (
            callbacks.Backup,
            "on_epoch_end",
            lambda backup, call: call == 2 and _send(signum),
        ),
        "twice": (callbacks.HeldOutLog, "on_train_batch_end", at_step_60(twice)),
        "saving": (keras.Model, "save", lambda model, call: _send(signum)),
        # The commands predict batch by batch (`serving.predict`).
        "predicting": (
            keras.Model,
            "predict_on_batch",
            lambda model, call: _send(signum),
        ),
        "exporting": (keras.Model, "export", lambda model, call: _send(signum)),
    }
    if moment in actions:
        _before(*actions[moment])


if __name__ == "__main__":
    moment, name, *arguments = sys.argv[1:]
    signum = getattr(signal, name)
    import _keras_gru_cell_launcher as launcher
    from _keras_gru_cell_process import quiet_stderr

    # Keras, imported here first, loads the backend: quietly, as the command
    # would.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        _arrange(moment, signum)
    sys.argv = ["keras-gru-cell", *arguments]
    status = launcher.main()
    if moment == "finished":
        _send(signum)
    sys.exit(status)
