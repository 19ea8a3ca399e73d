"""`TrainingSettings`: everything that decides a training run, and the presets."""

from __future__ import annotations

import dataclasses

from keras_gru_cell import _validation
from keras_gru_cell.addition.data import check_num_bits

LOSSES = ("bce", "mse", "quadratic")


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Everything that decides a training run of the addition model.

    The defaults are the package's best settings; `TUTORIAL` holds the 2017
    tutorial's.

    Args:
        bits: The training sequence length, or an inclusive `(low, high)`
            range to draw each batch's length from.
        hidden_size: The number of GRU units.
        steps: The most training steps (batches) to run.
        batch_size: The number of sums per training batch.
        learning_rate: Adam's learning rate.
        final_learning_rate: If set and below `learning_rate`, the learning
            rate falls from `learning_rate` to this along a cosine over
            `steps`; otherwise it stays constant.
        epsilon: Adam's epsilon.
        loss: `"bce"` (binary cross-entropy on a sigmoid output), `"mse"`
            (mean squared error on a linear output) or `"quadratic"` (the
            tutorial's Σ 0.5 (ŷ − y)² / batch on a linear output).
        seed: The seed of the weights and the data; `None` draws one.
        validation_bits: The length of the held-out validation sums.
        validation_size: The number of held-out validation sums.
        long_validation_bits: The length of the long held-out sums, and of
            the longest carry chains (see `carry_chain_pairs`), scored once
            every held-out sum is right; training stops only once they are
            right too. `None` scores none.
        long_validation_size: The number of random long held-out sums.
        validation_every: Training steps between validations (one Keras
            epoch).
        dtype: The model's and the data's floating dtype.
        weight_stddev: If set, the standard deviation of every initial
            weight (see `build_addition_model`); `None` uses Keras's
            initializers.
        symmetric_summands: Whether the cell weighs both summands' bits
            alike (see `SymmetricSummands`).
        tutorial_data: Whether to train on the tutorial's 100 fixed sums and
            validate on its 100 fixed test sums instead of fresh batches.
        stop_after_perfect: Stop once every held-out sum has been right at
            this many validations in a row (a model that is just right is
            often still fragile at lengths far beyond its training);
            `None` never stops early. A run that never does, and is wrong
            somewhere at its last step, ends with the weights of its last
            validation at which every held-out sum was right, if any.

    Raises:
        ValueError: If a setting is out of range, naming it.
    """

    bits: int | tuple[int, int] = (8, 32)
    hidden_size: int = 16
    steps: int = 1000
    batch_size: int = 256
    learning_rate: float = 0.02
    final_learning_rate: float | None = 1e-4
    epsilon: float = 1e-7
    loss: str = "bce"
    seed: int | None = None
    validation_bits: int = 128
    validation_size: int = 1000
    long_validation_bits: int | None = 1024
    long_validation_size: int = 1000
    validation_every: int = 50
    dtype: str = "float32"
    weight_stddev: float | None = None
    symmetric_summands: bool = True
    tutorial_data: bool = False
    stop_after_perfect: int | None = 2

    def __post_init__(self):
        if isinstance(self.bits, tuple):
            for length in self.bits:
                check_num_bits(length, "bits")
            if len(self.bits) != 2 or self.bits[0] > self.bits[1]:
                raise ValueError(
                    f"Received an invalid value for argument `bits`, expected "
                    f"an integer or a (low, high) pair with low <= high, got "
                    f"{self.bits!r}."
                )
        else:
            check_num_bits(self.bits, "bits")
        check_num_bits(self.validation_bits, "validation_bits")
        if self.long_validation_bits is not None:
            check_num_bits(self.long_validation_bits, "long_validation_bits")
        for name in (
            "hidden_size",
            "steps",
            "batch_size",
            "validation_size",
            "long_validation_size",
            "validation_every",
        ):
            _validation.positive_integer(name, getattr(self, name))
        for name in ("learning_rate", "epsilon"):
            _validation.positive_number(name, getattr(self, name))
        if self.final_learning_rate is not None:
            _validation.positive_number("final_learning_rate", self.final_learning_rate)

        _validation.one_of("loss", self.loss, LOSSES)
        if self.stop_after_perfect is not None:
            _validation.positive_integer("stop_after_perfect", self.stop_after_perfect)
        _validation.seed("seed", self.seed, bits=31)


TUTORIAL = TrainingSettings(
    bits=5,
    hidden_size=16,
    steps=5000,
    batch_size=100,
    # tf.compat.v1.train.AdamOptimizer's defaults; Keras's epsilon is 1e-7.
    learning_rate=0.001,
    final_learning_rate=None,
    epsilon=1e-8,
    loss="quadratic",
    validation_bits=5,
    validation_size=100,
    long_validation_bits=None,
    validation_every=1,
    dtype="float64",
    weight_stddev=0.01,
    symmetric_summands=False,
    tutorial_data=True,
    stop_after_perfect=None,
)
"""The 2017 tutorial's settings: its 100 fixed sums at 5 bits, 16 units,
float64, weights drawn with standard deviation 0.01, Adam's defaults, the
quadratic loss and 5000 full-batch iterations, validated after each one."""

PRESETS = {"default": TrainingSettings(), "tutorial": TUTORIAL}
