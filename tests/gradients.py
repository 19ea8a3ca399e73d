"""Gradients of a scalar function of a layer's output, on any Keras backend.

Keras has no backend-neutral gradient API outside `model.fit`, so the tests
that compare gradients go through this one small adapter.
"""

import keras
import numpy as np


def input_and_weight_gradients(layer, inputs, probe, **call_kwargs):
    """Gradients of `sum(layer(inputs) * probe)` w.r.t. inputs and trainable weights.

    `call_kwargs`, such as `training`, go to the layer's call. Returns
    `(d_inputs, [d_weight, ...])` as NumPy arrays, weights in the order of
    `layer.trainable_weights`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, **call_kwargs) * probe)
        grads = tape.gradient(loss, [x, *layer.trainable_weights])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss_fn(x, weights):
            outputs, _ = layer.stateless_call(weights, non_trainable, x, **call_kwargs)
            return (outputs * probe).sum()

        d_x, d_w = jax.grad(loss_fn, argnums=(0, 1))(inputs, trainable)
        grads = [d_x, *d_w]
    elif backend == "torch":
        import torch

        x = torch.tensor(inputs, requires_grad=True)
        for weight in layer.trainable_weights:
            weight.value.grad = None
        loss = (layer(x, **call_kwargs) * torch.tensor(probe)).sum()
        loss.backward()
        grads = [x.grad, *(w.value.grad for w in layer.trainable_weights)]
    else:
        raise NotImplementedError(f"No gradient adapter for backend {backend!r}.")
    arrays = [np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]
    return arrays[0], arrays[1:]
