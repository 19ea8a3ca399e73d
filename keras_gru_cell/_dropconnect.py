"""Recurrent DropConnect (Wan et al., 2013; Merity et al., 2017, "weight drop").

In training, one Bernoulli mask on `recurrent_kernel` per call of the layer,
shared by every example and time step, zeroes a fraction `rate` of the
recurrent weights and scales the rest by `1 / (1 − rate)`, as dropout does;
at inference the kernel is used as it is. The masked kernel is an ordinary
operand of the step, so the fused layer's hand-written backward pass covers
it, and autodiff of the product here carries its gradient to the kernel.
"""

import keras
from keras import ops


def mask(kernel, rate: float, seed_generator):
    """The scaled keep mask of `kernel`, drawn from `seed_generator`."""
    return keras.random.dropout(ops.ones(kernel.shape), rate=rate, seed=seed_generator)
