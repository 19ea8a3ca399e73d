"""The Keras mixin that makes `keras.layers.RNN` hold dropout masks over time.

`keras.layers.RNN` draws a cell's dropout masks once per call, before its time
loop, and clears them after, but only for cells that derive from Keras's
`DropoutRNNCell` mixin. The mixin is not exported; every public Keras cell
derives from it, so it is taken from `keras.layers.GRUCell` here rather than
imported from `keras.src`, which changes without notice.
"""

import keras


def _find_dropout_rnn_cell() -> type:
    for base in keras.layers.GRUCell.__mro__:
        if base.__name__ == "DropoutRNNCell":
            return base
    raise ImportError(
        "keras_gru_cell needs Keras's DropoutRNNCell mixin, a base class of "
        f"keras.layers.GRUCell, and keras {keras.__version__} has none. "
        "Please report this with your Keras version."
    )


DropoutRNNCell = _find_dropout_rnn_cell()
