"""`ChungGRUCell`: the gated recurrent unit as Chung et al. (2014) write it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from keras_gru_cell import _dropconnect
from keras_gru_cell import _layer_norm
from keras_gru_cell import _ops
from keras_gru_cell import _validation
from keras_gru_cell import _zoneout
from keras_gru_cell._dropout_rnn_cell import DropoutRNNCell
from keras_gru_cell.weights import keras_gru_to_chung_weights


def _resolve(getter, argument: str, identifier: Any):
    """Resolves a Keras identifier, naming the constructor argument on failure."""
    try:
        return getter(identifier)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: "
            f"{identifier!r}. {error}"
        ) from None


def _describe(shapes: list[tuple[int, ...]]) -> str:
    """Names the arguments behind a list of weight shapes, where it can."""
    if len(shapes) in (2, 3) and all(len(shape) == 2 for shape in shapes[:2]):
        (input_dim, _), (units, _) = shapes[:2]
        return f"units={units}, input_dim={input_dim}, use_bias={len(shapes) == 3}"
    return f"weights of shapes {shapes}"


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class ChungGRUCell(keras.layers.Layer, DropoutRNNCell):
    """The gated recurrent unit of Chung et al. (2014), one time step.

    For an input row vector `x_t` and the previous state `h_{t-1}`:

    ```
    z_t = σ(x_t W_z + h_{t-1} U_z + b_z)                 # update gate
    r_t = σ(x_t W_r + h_{t-1} U_r + b_r)                 # reset gate
    h̃_t = tanh(x_t W_h + (r_t ∘ h_{t-1}) U_h + b_h)      # candidate
    h_t = (1 − z_t) ∘ h_{t-1} + z_t ∘ h̃_t
    ```

    The update gate `z_t` selects the new candidate and the reset gate is
    applied before the recurrent product, as in the paper. Keras's
    `keras.layers.GRU`, PyTorch and Flax let `z_t` keep the old state instead;
    `keras.layers.GRU(reset_after=False)` computes the same function as this
    cell once its `z` weights are negated (see `chung_to_keras_gru_weights`).

    The weights have the shapes and block order of
    `keras.layers.GRUCell(reset_after=False)` and are created in this order:
    `kernel` `(input_dim, 3 * units)` holding `[W_z | W_r | W_h]`,
    `recurrent_kernel` `(units, 3 * units)` holding `[U_z | U_r | U_h]`, and
    `bias` `(3 * units,)` holding `[b_z | b_r | b_h]` when `use_bias=True`.

    The cell processes one step; wrap it in `keras.layers.RNN` to run it over
    a sequence, with every option `RNN` offers.

    Args:
        units: Positive integer, dimensionality of the state and the output.
        activation: Activation of the candidate state. Defaults to `"tanh"`.
            `None` means linear.
        recurrent_activation: Activation of the update and reset gates.
            Defaults to `"sigmoid"`. `None` means linear.
        use_bias: Boolean, whether the cell uses the bias vector. Defaults to
            `True`.
        kernel_initializer: Initializer of `kernel`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`. Defaults to
            `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Defaults to `"zeros"`.
        kernel_regularizer: Regularizer of `kernel`. Defaults to `None`.
        recurrent_regularizer: Regularizer of `recurrent_kernel`. Defaults to
            `None`.
        bias_regularizer: Regularizer of `bias`. Defaults to `None`.
        kernel_constraint: Constraint on `kernel`. Defaults to `None`.
        recurrent_constraint: Constraint on `recurrent_kernel`. Defaults to
            `None`.
        bias_constraint: Constraint on `bias`. Defaults to `None`.
        dropout: Float in `[0, 1)`, the fraction of the input units dropped
            before the input products. One mask per sequence, held over all
            time steps and shared by the three gates. Defaults to `0.0`.
        recurrent_dropout: Float in `[0, 1)`, the fraction of the state units
            dropped before the recurrent products (not in the carried state).
            One mask per sequence, held over all time steps. Defaults to `0.0`.
        seed: Integer, the seed of the dropout, zoneout and DropConnect
            masks. Defaults to `None`.
        layer_normalization: Boolean, whether the input parts `x_t W` and the
            recurrent parts `h_{t-1} U` of the pre-activations are layer
            normalized separately, per gate, with gains and biases, before the
            bias `b` is added (Ba et al., 2016). Adds the weights
            `input_gamma`, `input_beta`, `recurrent_gamma` and
            `recurrent_beta`, each `(3 * units,)`. Defaults to `False`.
        zoneout: Float in `[0, 1)`, the probability that a unit keeps its
            previous state at a step in training, drawn anew per step and
            unit; at inference the state is the expectation
            `zoneout · h_{t-1} + (1 − zoneout) · h_t` (Krueger et al., 2016).
            Defaults to `0.0`.
        recurrent_dropconnect: Float in `[0, 1)`, the fraction of the weights
            of `recurrent_kernel` dropped in training, one mask per call of
            the layer shared by every example and step, the rest scaled by
            `1 / (1 − rate)` (Wan et al., 2013; Merity et al., 2017).
            Defaults to `0.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A 2D tensor `(batch, input_dim)`, the input at one time step.
            Integer and boolean inputs are cast to the compute dtype. NaN and
            infinite values are not checked: a NaN propagates through the
            rest of its sequence, an infinity saturates the gates or, where
            two meet as inf − inf, becomes NaN.
        states: The previous state: a `(batch, units)` tensor or a list
            holding one.
        training: Python boolean, whether dropout, zoneout and DropConnect
            are applied. Set by `keras.layers.RNN` and `model.fit`. Zoneout
            draws a mask at every step; on JAX, `keras.layers.RNN` runs the
            step in a `lax.scan` that cannot advance the seed generator, so
            without `unroll=True` every step zones out the same units, and
            `model.fit` raises JAX's `UnexpectedTracerError`.
            `ChungGRU` draws every step's mask before its loop and needs no
            unrolling.

    Returns:
        A tuple `(output, new_states)`, where `output` is the new state
        `(batch, units)` and `new_states` has the structure of `states`.

    Raises:
        ValueError: for a `units` that is not a positive integer, a dropout,
            zoneout or DropConnect rate outside `[0, 1)`, an unknown
            activation, initializer, regularizer or constraint, an input
            that is not 2D, an input feature size different from the one the
            cell was built for, or
            weights loaded from a file saved with another `units`, input
            feature size or `use_bias`.

    Examples:
        >>> inputs = np.random.random((32, 10, 8)).astype("float32")
        >>> rnn = keras.layers.RNN(ChungGRUCell(4))
        >>> tuple(rnn(inputs).shape)
        (32, 4)
        >>> rnn = keras.layers.RNN(
        ...     ChungGRUCell(4), return_sequences=True, return_state=True
        ... )
        >>> sequence, final_state = rnn(inputs)
        >>> tuple(sequence.shape), tuple(final_state.shape)
        ((32, 10, 4), (32, 4))

        A built-in `keras.layers.GRU(reset_after=False)` becomes an exactly
        equivalent cell with converted weights:

        >>> gru = keras.layers.GRU(4, reset_after=False)
        >>> expected = keras.ops.convert_to_numpy(gru(inputs))
        >>> rnn = keras.layers.RNN(ChungGRUCell.from_keras_gru(gru))
        >>> actual = keras.ops.convert_to_numpy(rnn(inputs))
        >>> bool(np.allclose(actual, expected, atol=1e-5))
        True

        The variants of the [Variants](../variants.md) page are options:

        >>> cell = ChungGRUCell(4, layer_normalization=True, zoneout=0.1)
        >>> tuple(keras.layers.RNN(cell)(inputs).shape)
        (32, 4)

    References:
        - [Chung, Gulcehre, Cho & Bengio, 2014. Empirical evaluation of gated
          recurrent neural networks on sequence modeling](
          https://arxiv.org/abs/1412.3555)
        - [Ba, Kiros & Hinton, 2016. Layer normalization](
          https://arxiv.org/abs/1607.06450)
        - [Krueger et al., 2016. Zoneout: regularizing RNNs by randomly
          preserving hidden activations](https://arxiv.org/abs/1606.01305)
        - [Wan et al., 2013. Regularization of neural networks using
          DropConnect](https://proceedings.mlr.press/v28/wan13.html)
        - [Merity, Keskar & Socher, 2017. Regularizing and optimizing LSTM
          language models](https://arxiv.org/abs/1708.02182)
    """

    def __init__(
        self,
        units: int,
        activation: str | Callable | None = "tanh",
        recurrent_activation: str | Callable | None = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        recurrent_initializer: str | keras.initializers.Initializer = "orthogonal",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        kernel_regularizer: str | keras.regularizers.Regularizer | None = None,
        recurrent_regularizer: str | keras.regularizers.Regularizer | None = None,
        bias_regularizer: str | keras.regularizers.Regularizer | None = None,
        kernel_constraint: str | keras.constraints.Constraint | None = None,
        recurrent_constraint: str | keras.constraints.Constraint | None = None,
        bias_constraint: str | keras.constraints.Constraint | None = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        layer_normalization: bool = False,
        zoneout: float = 0.0,
        recurrent_dropconnect: float = 0.0,
        **kwargs,
    ):
        units = _validation.positive_integer("units", units)
        super().__init__(**kwargs)
        self.units = units
        self.activation = _resolve(keras.activations.get, "activation", activation)
        self.recurrent_activation = _resolve(
            keras.activations.get, "recurrent_activation", recurrent_activation
        )
        self.use_bias = bool(use_bias)

        self.kernel_initializer = _resolve(
            keras.initializers.get, "kernel_initializer", kernel_initializer
        )
        self.recurrent_initializer = _resolve(
            keras.initializers.get, "recurrent_initializer", recurrent_initializer
        )
        self.bias_initializer = _resolve(
            keras.initializers.get, "bias_initializer", bias_initializer
        )

        self.kernel_regularizer = _resolve(
            keras.regularizers.get, "kernel_regularizer", kernel_regularizer
        )
        self.recurrent_regularizer = _resolve(
            keras.regularizers.get, "recurrent_regularizer", recurrent_regularizer
        )
        self.bias_regularizer = _resolve(
            keras.regularizers.get, "bias_regularizer", bias_regularizer
        )

        self.kernel_constraint = _resolve(
            keras.constraints.get, "kernel_constraint", kernel_constraint
        )
        self.recurrent_constraint = _resolve(
            keras.constraints.get, "recurrent_constraint", recurrent_constraint
        )
        self.bias_constraint = _resolve(
            keras.constraints.get, "bias_constraint", bias_constraint
        )

        self.dropout = _validation.rate("dropout", dropout)
        self.recurrent_dropout = _validation.rate(
            "recurrent_dropout", recurrent_dropout
        )
        self.seed = seed
        self.layer_normalization = bool(layer_normalization)
        self.zoneout = _validation.rate("zoneout", zoneout)
        self.recurrent_dropconnect = _validation.rate(
            "recurrent_dropconnect", recurrent_dropconnect
        )
        # Read by DropoutRNNCell when keras.layers.RNN asks for the masks.
        self.seed_generator = keras.random.SeedGenerator(seed=seed)

        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                "ChungGRUCell expects inputs of rank 2, (batch, input_dim), "
                "one time step (inside keras.layers.RNN the sequence is "
                f"(batch, time, input_dim)); received input_shape={input_shape}."
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                "The last dimension of the inputs to ChungGRUCell must be "
                f"defined; received input_shape={input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(input_dim, 3 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 3 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(3 * self.units,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        if self.layer_normalization:
            # After the GRU's own weights, so that files of a cell without
            # them keep their order.
            for part in ("input", "recurrent"):
                for name, initializer in (("gamma", "ones"), ("beta", "zeros")):
                    weight = self.add_weight(
                        shape=(3 * self.units,),
                        name=f"{part}_{name}",
                        initializer=initializer,
                    )
                    setattr(self, f"{part}_{name}", weight)

    def get_recurrent_dropout_mask(self, step_input):
        # keras.layers.RNN draws the masks here, once, before its time loop;
        # drawing the DropConnect mask with them keeps the loop stateless.
        if self.recurrent_dropconnect > 0.0:
            self.get_recurrent_kernel_mask()
        return super().get_recurrent_dropout_mask(step_input)

    def reset_recurrent_dropout_mask(self):
        super().reset_recurrent_dropout_mask()
        self._recurrent_kernel_mask = None

    def get_recurrent_kernel_mask(self):
        """The DropConnect mask of `recurrent_kernel`, drawn once per call."""
        if getattr(self, "_recurrent_kernel_mask", None) is None:
            self._recurrent_kernel_mask = _dropconnect.mask(
                self.recurrent_kernel, self.recurrent_dropconnect, self.seed_generator
            )
        return self._recurrent_kernel_mask

    def call(self, inputs, states, training=False):
        h_prev = states[0] if keras.tree.is_nested(states) else states
        input_dim = self.kernel.shape[0]
        if len(inputs.shape) != 2 or inputs.shape[-1] not in (None, input_dim):
            raise ValueError(
                f"ChungGRUCell was built for inputs of shape (batch, {input_dim}); "
                f"received inputs of shape {tuple(inputs.shape)}."
            )

        x, h_rec = inputs, h_prev
        if not keras.backend.is_float_dtype(x.dtype):
            # Bits and token-like integer or boolean inputs are valid data.
            x = ops.cast(x, self.compute_dtype)
        if training and self.dropout > 0.0:
            x = x * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0.0:
            h_rec = h_rec * self.get_recurrent_dropout_mask(h_prev)

        recurrent_kernel = self.recurrent_kernel
        if training and self.recurrent_dropconnect > 0.0:
            recurrent_kernel = recurrent_kernel * ops.cast(
                self.get_recurrent_kernel_mask(), recurrent_kernel.dtype
            )
        units = self.units
        normalize = self.layer_normalization

        projected = _ops.matmul(x, self.kernel)
        if normalize:
            projected = _layer_norm.normalize(
                projected, self.input_gamma, self.input_beta, units
            )
        if self.use_bias:
            projected = projected + self.bias
        x_z, x_r, x_h = ops.split(projected, 3, axis=-1)

        # z and r share one product with [U_z | U_r]; U_h needs r first.
        zr = _ops.matmul(h_rec, recurrent_kernel[:, : 2 * units])
        if normalize:
            zr = _layer_norm.normalize(
                zr,
                self.recurrent_gamma[: 2 * units],
                self.recurrent_beta[: 2 * units],
                units,
            )
        z = self.recurrent_activation(x_z + zr[:, :units])
        r = self.recurrent_activation(x_r + zr[:, units:])
        reset = _ops.matmul(r * h_rec, recurrent_kernel[:, 2 * units :])
        if normalize:
            reset = _layer_norm.normalize(
                reset,
                self.recurrent_gamma[2 * units :],
                self.recurrent_beta[2 * units :],
                units,
            )
        h_tilde = _ops.activation(self.activation)(x_h + reset)
        h = (1.0 - z) * h_prev + z * h_tilde
        if self.zoneout > 0.0:
            keep = None
            if training:
                keep = _zoneout.keep_mask(h_prev, self.zoneout, self.seed_generator)
            h = _zoneout.apply(h_prev, h, self.zoneout, keep)

        new_states = [h] if keras.tree.is_nested(states) else h
        return h, new_states

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def load_own_variables(self, store):
        # Keras's own error shows two shapes; say which argument differs.
        saved = [tuple(store[str(i)].shape) for i in range(len(store.keys()))]
        expected = [tuple(weight.shape) for weight in self.weights]
        # With nothing saved for this cell, Keras's own error says so clearly.
        if saved and saved != expected:
            raise ValueError(
                f"Cannot load the weights of a ChungGRUCell with "
                f"{_describe(saved)} into {self.name!r}, a ChungGRUCell with "
                f"{_describe(expected)}."
            )
        super().load_own_variables(store)

    @classmethod
    def from_keras_gru(cls, layer: keras.layers.Layer) -> ChungGRUCell:
        """Creates a cell that computes what a built-in Keras GRU computes.

        Args:
            layer: A built `keras.layers.GRU` or `keras.layers.GRUCell` with
                `reset_after=False`.

        Returns:
            A built `ChungGRUCell` with the layer's configuration (units,
            activations, initializers, regularizers, constraints, dropout,
            seed, dtype) and its weights converted with
            `keras_gru_to_chung_weights`. Wrap it in `keras.layers.RNN` with
            the GRU's `return_sequences`, `go_backwards` and so on.

        Raises:
            ValueError: if `layer` is not a GRU or GRU cell, is not built, has
                `reset_after=True`, or uses a gate activation with no exact
                mapping.
        """
        cell = layer.cell if isinstance(layer, keras.layers.GRU) else layer
        if not isinstance(cell, keras.layers.GRUCell):
            raise ValueError(
                "Expected `layer` to be a keras.layers.GRU or "
                f"keras.layers.GRUCell; received {type(layer).__name__}."
            )
        if cell.reset_after:
            raise ValueError(
                "Only a GRU with `reset_after=False` has an exact ChungGRUCell "
                "equivalent; received a layer with reset_after=True, which "
                "applies the reset gate after the recurrent product."
            )
        if not cell.built:
            raise ValueError(
                f"The layer {layer.name!r} has no weights yet: build it (call "
                "it on data) before converting it."
            )
        config = cell.get_config()
        for key in ("name", "reset_after"):
            config.pop(key)
        chung = cls.from_config(config)
        chung.build((None, cell.kernel.shape[0]))
        chung.set_weights(
            keras_gru_to_chung_weights(cell.get_weights(), cell.recurrent_activation)
        )
        return chung

    def get_config(self) -> dict[str, Any]:
        serialize = keras.saving.serialize_keras_object
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(
                self.recurrent_activation
            ),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "recurrent_initializer": serialize(self.recurrent_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "recurrent_regularizer": serialize(self.recurrent_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "recurrent_constraint": serialize(self.recurrent_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "layer_normalization": self.layer_normalization,
            "zoneout": self.zoneout,
            "recurrent_dropconnect": self.recurrent_dropconnect,
        }
        return {**super().get_config(), **config}
