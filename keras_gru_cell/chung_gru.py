"""`ChungGRU`: the paper's GRU over whole sequences, with a fused time loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from keras_gru_cell import _fused
from keras_gru_cell import _zoneout
from keras_gru_cell.chung_gru_cell import ChungGRUCell


def _cell_attribute(name: str) -> property:
    return property(
        lambda self: getattr(self.cell, name),
        doc=f"The `{name}` of the layer's `ChungGRUCell`.",
    )


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class ChungGRU(keras.layers.RNN):
    """The gated recurrent unit of Chung et al. (2014) over whole sequences.

    Computes exactly what `keras.layers.RNN(ChungGRUCell(...))` computes, the
    paper's update `h_t = (1 − z_t) ∘ h_{t-1} + z_t ∘ h̃_t` with the reset gate
    applied before the recurrent product, with the same weights, but with its
    own time loop: each step holds only the two recurrent products, the input
    product and elementwise math (on PyTorch the input products of all time
    steps are one matmul before the loop; on TensorFlow and JAX, whose XLA
    loops run faster reading narrow inputs, each step projects its own), the
    loop is each backend's best (`lax.scan` on JAX, an XLA-compiled `while`
    loop on TensorFlow even when the model is not compiled with XLA, both
    unrolled for sequences of up to 16 steps, a plain PyTorch loop on
    PyTorch), and a hand-written backward pass collects the weight
    gradients: on JAX, step by step inside its loop, which trained faster
    there at the Benchmarks page's large shape; under a Keras distribution,
    which shards the batch, and on TensorFlow and PyTorch, as large matmuls
    after the loop. A prediction keeps nothing for that backward pass: JAX
    runs the forward loop of the custom gradient only when something
    differentiates the call, PyTorch only when autograd records it, and
    TensorFlow, which cannot tell, only with `training=True` (a gradient
    taken of a call with `training=False` recomputes the gates from the
    states, and is as exact).

    The layer holds a `ChungGRUCell` as `cell`; its weights `kernel`
    `(input_dim, 3 * units)`, `recurrent_kernel` `(units, 3 * units)` and
    `bias` `(3 * units,)` (blocks `[z | r | h]`) move to and from
    `RNN(ChungGRUCell(...))` with `get_weights`/`set_weights`.

    Masking, `go_backwards`, `stateful`, `initial_state`, dropout and recurrent
    dropout all run in the fused loop, with the cell's own dropout masks, and
    so do the variants (see the [Variants](../variants.md) page): recurrent
    DropConnect masks the recurrent kernel the loop receives, under the same
    hand-written backward pass; layer normalization and zoneout change the
    step, and like activations other than the default `"tanh"` and
    `"sigmoid"`, run the same loop differentiated by the backend's autodiff,
    which is slower to train. Zoneout's masks of all steps are drawn at once
    before the loop, so in training the layer zones out other units than
    `RNN(ChungGRUCell(...))` with the same seed, from the same distribution.
    The layer draws its masks in training only (`keras.layers.RNN` draws its
    cell's dropout masks at inference too), so it exports from JAX with
    DropConnect, where `RNN(ChungGRUCell(...))` cannot. `unroll` is
    accepted for compatibility with `keras.layers.GRU` and has no effect:
    the fused loop unrolls sequences of a known length of up to 16 steps by
    itself, where XLA's loop costs more than their arithmetic, and loops
    over longer ones. Gradients are first order only.

    Args:
        units: Positive integer, dimensionality of the state and the output.
        activation: Activation of the candidate state. Defaults to `"tanh"`.
        recurrent_activation: Activation of the update and reset gates.
            Defaults to `"sigmoid"`.
        use_bias: Boolean, whether the layer uses the bias vector. Defaults to
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
        dropout: Float in `[0, 1)`, the fraction of the input units dropped,
            one mask per sequence held over all time steps. Defaults to `0.0`.
        recurrent_dropout: Float in `[0, 1)`, the fraction of the state units
            dropped before the recurrent products, one mask per sequence.
            Defaults to `0.0`.
        seed: Integer, the seed of the dropout, zoneout and DropConnect
            masks. Defaults to `None`.
        layer_normalization: Boolean, whether the input and the recurrent
            parts of the pre-activations are layer normalized separately, per
            gate, with gains and biases (Ba et al., 2016). Defaults to
            `False`.
        zoneout: Float in `[0, 1)`, the probability that a unit keeps its
            previous state at a step in training; the expectation at
            inference (Krueger et al., 2016). Defaults to `0.0`.
        recurrent_dropconnect: Float in `[0, 1)`, the fraction of
            `recurrent_kernel`'s weights dropped in training, one mask per
            call (Wan et al., 2013; Merity et al., 2017). Defaults to `0.0`.
        return_sequences: Boolean, whether to return the output of every step
            rather than the last one. Defaults to `False`.
        return_state: Boolean, whether to return the final state after the
            output. Defaults to `False`.
        go_backwards: Boolean, whether to read the sequence in reverse; the
            returned sequence is then in reverse order too. Defaults to
            `False`.
        stateful: Boolean, whether the final state of each batch is the
            initial state of the next. Defaults to `False`.
        unroll: Boolean, accepted for compatibility and ignored (see
            above). Defaults to `False`.
        **kwargs: Base layer keyword arguments, such as `name`, `dtype` and
            `activity_regularizer`.

    Call arguments:
        sequences: A 3D tensor `(batch, time, input_dim)` with at least one
            time step. Integer and boolean inputs are cast to the compute
            dtype; NaN and infinite values are treated as `ChungGRUCell`
            treats them.
        initial_state: Optional initial state, a `(batch, units)` tensor or a
            list holding one. Defaults to zeros (or the carried state when
            `stateful`).
        mask: Optional boolean `(batch, time)`; a masked step keeps the
            previous state and repeats the previous output. Set by `Masking`
            and `Embedding(mask_zero=True)` layers.
        training: Python boolean, whether dropout, zoneout and DropConnect
            are applied. Set by `model.fit`.

    Returns:
        The last output `(batch, units)`, or every output
        `(batch, time, units)` when `return_sequences=True`; followed by the
        final state `(batch, units)` when `return_state=True`.

    Raises:
        ValueError: for the invalid arguments `ChungGRUCell` rejects, for
            inputs that are not 3D, have no time steps, or have a feature
            size other than the one the layer was built for.

    Examples:
        >>> inputs = np.random.random((32, 10, 8)).astype("float32")
        >>> gru = ChungGRU(4)
        >>> tuple(gru(inputs).shape)
        (32, 4)
        >>> gru = ChungGRU(4, return_sequences=True, return_state=True)
        >>> sequence, final_state = gru(inputs)
        >>> tuple(sequence.shape), tuple(final_state.shape)
        ((32, 10, 4), (32, 4))

        The same weights in the cell-by-cell layer give the same outputs:

        >>> rnn = keras.layers.RNN(ChungGRUCell(4), return_sequences=True)
        >>> rnn.build(inputs.shape)
        >>> rnn.set_weights(gru.get_weights())
        >>> expected = keras.ops.convert_to_numpy(sequence)
        >>> actual = keras.ops.convert_to_numpy(rnn(inputs))
        >>> bool(np.allclose(actual, expected, atol=1e-5))
        True

    References:
        - [Chung, Gulcehre, Cho & Bengio, 2014. Empirical evaluation of gated
          recurrent neural networks on sequence modeling](
          https://arxiv.org/abs/1412.3555)
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
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        **kwargs,
    ):
        cell = ChungGRUCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            layer_normalization=layer_normalization,
            zoneout=zoneout,
            recurrent_dropconnect=recurrent_dropconnect,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="chung_gru_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)

    # Every constructor argument of the cell, read through as keras.layers.GRU
    # reads its own.
    units = _cell_attribute("units")
    activation = _cell_attribute("activation")
    recurrent_activation = _cell_attribute("recurrent_activation")
    use_bias = _cell_attribute("use_bias")
    kernel_initializer = _cell_attribute("kernel_initializer")
    recurrent_initializer = _cell_attribute("recurrent_initializer")
    bias_initializer = _cell_attribute("bias_initializer")
    kernel_regularizer = _cell_attribute("kernel_regularizer")
    recurrent_regularizer = _cell_attribute("recurrent_regularizer")
    bias_regularizer = _cell_attribute("bias_regularizer")
    kernel_constraint = _cell_attribute("kernel_constraint")
    recurrent_constraint = _cell_attribute("recurrent_constraint")
    bias_constraint = _cell_attribute("bias_constraint")
    dropout = _cell_attribute("dropout")
    recurrent_dropout = _cell_attribute("recurrent_dropout")
    seed = _cell_attribute("seed")
    layer_normalization = _cell_attribute("layer_normalization")
    zoneout = _cell_attribute("zoneout")
    recurrent_dropconnect = _cell_attribute("recurrent_dropconnect")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        input_dim = self.cell.kernel.shape[0]
        if sequences.shape[-1] not in (None, input_dim):
            raise ValueError(
                f"ChungGRU was built for {input_dim} input features; received "
                f"sequences of shape {tuple(sequences.shape)}."
            )
        if sequences.shape[1] == 0:
            # Keras's RNN would fail on it with an indexing error deep in the
            # backend; there is no last output to return.
            raise ValueError(
                "ChungGRU needs at least one time step; received sequences of "
                f"shape {tuple(sequences.shape)}."
            )
        if not keras.backend.is_float_dtype(sequences.dtype):
            # Bits and token-like integer or boolean inputs are valid data.
            sequences = ops.cast(sequences, self.compute_dtype)
        return super().call(
            sequences, initial_state=initial_state, mask=mask, training=training
        )

    def _maybe_config_dropout_masks(self, cell, input_sequence, input_state):
        # `keras.layers.RNN.call` draws the cell's masks before its loop
        # whether or not it trains, which advances the seed generator at
        # inference and, in a JAX export's trace, leaks its state (the
        # export fails); `inner_loop` draws the masks it uses, in training.
        pass

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if keras.tree.is_nested(initial_state):
            initial_state = initial_state[0]
        if keras.tree.is_nested(mask):
            mask = mask[0]
        dtype = sequences.dtype

        if training and cell.dropout > 0.0:
            # The cell's own masks, drawn in the order in which
            # `keras.layers.RNN` draws them, so that in training both layers
            # draw the same random numbers.
            drop = cell.get_dropout_mask(sequences[:, 0, :])
            sequences = sequences * ops.expand_dims(drop, 1)
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0.0:
            recurrent_mask = cell.get_recurrent_dropout_mask(initial_state)
        recurrent_kernel = ops.cast(cell.recurrent_kernel, dtype)
        if training and cell.recurrent_dropconnect > 0.0:
            recurrent_kernel = recurrent_kernel * ops.cast(
                cell.get_recurrent_kernel_mask(), dtype
            )
        normalization = None
        if cell.layer_normalization:
            normalization = tuple(
                ops.cast(weight, dtype)
                for weight in (
                    cell.input_gamma,
                    cell.input_beta,
                    cell.recurrent_gamma,
                    cell.recurrent_beta,
                )
            )
        zoneout_mask = None
        if training and cell.zoneout > 0.0:
            zoneout_mask = _zoneout.keep_masks(
                initial_state,
                ops.shape(sequences)[1],
                cell.zoneout,
                cell.seed_generator,
            )

        # Time-major before the loop: the inputs are narrower than their
        # projections, so this transpose is the cheap one.
        inputs = ops.transpose(sequences, (1, 0, 2))
        if mask is not None:
            mask = ops.expand_dims(ops.transpose(ops.cast(mask, "bool")), -1)
        if self.go_backwards:
            inputs = ops.flip(inputs, 0)
            if mask is not None:
                mask = ops.flip(mask, 0)

        states = _fused.run(
            inputs,
            ops.cast(cell.kernel, dtype),
            ops.cast(cell.bias, dtype) if cell.use_bias else None,
            initial_state,
            recurrent_kernel,
            mask=mask,
            recurrent_mask=recurrent_mask,
            activation=cell.activation,
            recurrent_activation=cell.recurrent_activation,
            training=training,
            normalization=normalization,
            zoneout=cell.zoneout,
            zoneout_mask=zoneout_mask,
            # Like `keras.layers.RNN`'s `return_all_outputs`: a training
            # step then holds no sequence it would drop. On JAX, XLA
            # allocates a step's temporaries as one block each call, and
            # glibc maps a block above 32 MiB afresh every time, page by page:
            # at the Benchmarks page's large shape this keeps `fit`'s block
            # under that, and trained 1.22x [1.08, 1.27] as fast
            # (`benchmarks/compare_commits.py` against 28ef564).
            last_only=not self.return_sequences,
        )
        if not self.return_sequences:
            # `keras.layers.RNN.call` returns the last output alone then.
            last_output = self._last_output(states, mask)
            return last_output, last_output, [states]
        outputs = states
        if mask is not None:
            if self.zero_output_for_mask:
                outputs = ops.where(mask, states, 0.0)
            else:
                # A masked step repeats the previous output, which is zero
                # before the first unmasked step whatever the initial state.
                started = ops.cumsum(ops.cast(mask, "int32"), axis=0) > 0
                outputs = ops.where(started, states, 0.0)
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), [states[-1]]

    def _last_output(self, last_state, mask):
        """The last output, from the state after the last step, as masking
        every step's output would leave it: zero for a sequence whose every
        step is masked, and with `zero_output_for_mask`, whose last is."""
        if mask is None:
            return last_state
        if self.zero_output_for_mask:
            return ops.where(mask[-1], last_state, 0.0)
        return ops.where(ops.any(mask, axis=0), last_state, 0.0)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        base_keys = keras.layers.Layer.get_config(self.cell)
        return {
            **config,
            **{
                key: value for key, value in cell_config.items() if key not in base_keys
            },
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ChungGRU:
        return cls(**config)
