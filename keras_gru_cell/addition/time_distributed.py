"""`TimeDistributed`: Keras's wrapper, correct when the time axis has no length."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class TimeDistributed(keras.layers.TimeDistributed):
    """Applies a layer to every time step, for sequences of any length.

    A drop-in `keras.layers.TimeDistributed` that folds the time axis into
    the batch axis, calls the wrapped layer once, and unfolds the result.
    Keras 3's own wrapper, given a time axis of unknown length (as in a
    model built on `keras.Input((None, features))` and then traced or
    exported for any length), maps over as many steps as there are
    *examples in the batch*, so its output is wrong whenever the batch size
    and the sequence length differ; with a known length it unrolls a Python
    loop, one call per step. Folding is exact for layers that treat each row
    on its own, such as `Dense`; wrap only those.

    It takes the arguments of `keras.layers.TimeDistributed`: the `layer`
    applied to each step, and base layer keyword arguments such as `name` and
    `dtype`.

    Examples:
        >>> dense = keras.layers.Dense(1)
        >>> layer = TimeDistributed(dense)
        >>> x = np.random.rand(2, 5, 3).astype("float32")
        >>> per_step = keras.ops.convert_to_numpy(layer(x))
        >>> rows = keras.ops.convert_to_numpy(dense(x.reshape(10, 3)))
        >>> bool(np.allclose(per_step, rows.reshape(2, 5, 1)))
        True
    """

    def call(self, inputs, training=None, mask=None):
        shape = ops.shape(inputs)
        rows = ops.reshape(inputs, (-1, *inputs.shape[2:]))
        # The training flag reaches the wrapped layer through Keras's call
        # context, as it does for any nested layer.
        outputs = self.layer(rows)
        return ops.reshape(outputs, (shape[0], shape[1], *outputs.shape[1:]))
