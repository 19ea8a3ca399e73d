"""Zoneout (Krueger et al., 2016): units that keep their previous state.

In training each unit keeps its previous value with probability `rate` at
every step, `h_t = d_t ∘ h_{t-1} + (1 − d_t) ∘ h_t'` with `d_t ~
Bernoulli(rate)` drawn anew per step and unit; at inference the expectation,
`h_t = rate · h_{t-1} + (1 − rate) · h_t'`. The cell draws `d_t` at each step,
the fused loop draws all steps' in one go before its loop (so the two zone
out different units in training, from the same distribution), and both apply
it with `apply`.
"""

import keras
from keras import ops


def keep_mask(state, rate: float, seed_generator):
    """A boolean `d_t` shaped like `state`: True where a unit keeps its value."""
    return keras.random.uniform(ops.shape(state), seed=seed_generator) < rate


def apply(previous, new, rate: float, keep=None):
    """The zoned-out state: `keep` selects `previous`, or the expectation."""
    if keep is None:
        return rate * previous + (1.0 - rate) * new
    return ops.where(keep, previous, new)


def keep_masks(state, steps, rate: float, seed_generator):
    """`keep_mask` for `steps` steps at once, `(steps, *state.shape)`."""
    shape = (steps, *ops.shape(state))
    return keras.random.uniform(shape, seed=seed_generator) < rate
