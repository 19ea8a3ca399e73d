"""`fused_twin`: an addition model rebuilt with `ChungGRU`, the same weights."""

from __future__ import annotations

import keras

from keras_gru_cell.addition.time_distributed import TimeDistributed
from keras_gru_cell.chung_gru import ChungGRU
from keras_gru_cell.chung_gru_cell import ChungGRUCell


def fused_twin(model: keras.Model, name: str) -> keras.Model | None:
    """`model` rebuilt with `ChungGRU` in place of `RNN(ChungGRUCell)`.

    The addition model's form, `keras.layers.RNN(ChungGRUCell(...))` and a
    `TimeDistributed(Dense(1))` head, steps through one cell call at a time;
    `ChungGRU` computes the same recurrence in one fused layer with its own
    backward pass. The twin holds the same layers' configurations, its
    weights are copies of `model`'s, and its weights list in the same order.
    It is built in the current distribution, if any, and is not compiled.

    Args:
        model: A `keras.Model`.
        name: The twin's name.

    Returns:
        The twin, or `None` if `model` has another form.

    Examples:
        >>> from keras_gru_cell.addition import build_addition_model
        >>> model = build_addition_model(hidden_size=8)
        >>> twin = fused_twin(model, "twin")
        >>> type(twin.layers[1]).__name__
        'ChungGRU'
        >>> x = np.random.default_rng(0).integers(0, 2, (3, 9, 2))
        >>> bool(np.allclose(twin.predict(x, verbose=0),
        ...                  model.predict(x, verbose=0), atol=1e-5))
        True
        >>> other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> fused_twin(other, "twin") is None
        True
    """
    if len(model.inputs) != 1 or len(model.layers) != 3:
        return None
    source, rnn, head = model.layers
    if (
        not isinstance(source, keras.layers.InputLayer)
        or type(rnn) is not keras.layers.RNN
        or type(rnn.cell) is not ChungGRUCell
        or not isinstance(head, TimeDistributed)
    ):
        return None
    rnn_config = rnn.get_config()
    del rnn_config["cell"]
    base_keys = keras.layers.Layer.get_config(rnn.cell)
    cell_config = {
        key: value
        for key, value in rnn.cell.get_config().items()
        if key not in base_keys
    }
    gru = ChungGRU.from_config({**rnn_config, **cell_config})
    head = type(head).from_config(head.get_config())
    # The input's name is the exported `serve` endpoint's argument name.
    inputs = keras.Input(
        batch_shape=source.batch_shape, dtype=source.dtype, name=source.name
    )
    twin = keras.Model(inputs, head(gru(inputs)), name=name)
    twin.set_weights(model.get_weights())
    return twin
