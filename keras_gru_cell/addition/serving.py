"""`serving_model`: an addition model's fastest equivalent for prediction;
`predict`: its predictions, batch by batch."""

from __future__ import annotations

import weakref

import keras
import numpy as np

from keras_gru_cell.addition.fused_twin import fused_twin

# Rows per forward pass: bounds memory at long lengths without slowing short ones.
BATCH_SIZE = 2000
# One serving model per addition model, dropped with it.
_SERVING_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def serving_model(model: keras.Model) -> keras.Model:
    """Returns a model that predicts what an addition model predicts, faster.

    The model file keeps `build_addition_model`'s form,
    `keras.layers.RNN(ChungGRUCell(...))` and a `TimeDistributed(Dense(1))`
    head, which Keras steps through one cell call at a time. The serving
    model holds the same layers' configurations and weights with `ChungGRU`,
    the fused layer that computes the same recurrence, in place of the
    `RNN`. It is built once per model and cached; each call copies the
    model's current weights into it (a few hundred numbers), so it follows a
    model that is still training. A model of any other form is returned as
    it is.

    Args:
        model: An addition model, as `build_addition_model` builds it or
            `load_addition_model` loads it.

    Returns:
        A `keras.Model` with the same inputs and outputs as `model`, for
        `predict` and `export`, not for training; or `model` itself.

    Examples:
        >>> from keras_gru_cell.addition import build_addition_model
        >>> model = build_addition_model(hidden_size=8)
        >>> fast = serving_model(model)
        >>> type(fast.layers[1]).__name__
        'ChungGRU'
        >>> x = np.random.default_rng(0).integers(0, 2, (3, 9, 2))
        >>> bool(np.allclose(fast.predict(x, verbose=0),
        ...                  model.predict(x, verbose=0), atol=1e-5))
        True
        >>> serving_model(model) is fast
        True
    """
    if not isinstance(model, keras.Model):
        return model
    serving = _SERVING_MODELS.get(model)
    if serving is None:
        serving = _SERVING_MODELS[model] = (
            fused_twin(model, f"{model.name}_serving") or model
        )
    if serving is not model:
        serving.set_weights(model.get_weights())
    return serving


def predict(model: keras.Model, x: np.ndarray, batch_size: int = BATCH_SIZE):
    """`serving_model(model)`'s predictions for `x`, batch by batch.

    The same compiled function as `Model.predict` runs each batch
    (`predict_on_batch`), without the data pipeline `predict` builds per
    call: on TensorFlow a `tf.data` one, whose teardown waits for its
    autotuning thread, which made short predictions several times slower
    there (see the Benchmarks page's serving section). The inputs of an
    addition model are one array in memory, so nothing is lost.

    Args:
        model: An addition model, or any `keras.Model` (predicted as it is).
        x: Inputs, `(batch, time, 2)`.
        batch_size: Rows per forward pass.

    Returns:
        The predictions, a NumPy array, in the order of `x`.

    Examples:
        >>> from keras_gru_cell.addition import build_addition_model
        >>> model = build_addition_model(hidden_size=8)
        >>> x = np.random.default_rng(0).integers(0, 2, (5, 9, 2))
        >>> bool(np.allclose(predict(model, x, batch_size=2),
        ...                  model.predict(x, verbose=0), atol=1e-5))
        True
    """
    serving = serving_model(model)
    return np.concatenate(
        [
            serving.predict_on_batch(x[start : start + batch_size])
            # One empty batch for no rows, so that the result keeps its shape.
            for start in range(0, len(x), batch_size) or [0]
        ]
    )
