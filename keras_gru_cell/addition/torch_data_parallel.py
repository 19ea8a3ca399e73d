"""`TorchDataParallel`: `model.fit` over the processes of a PyTorch group."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class TorchDataParallel(keras.Model):
    """Trains a model data-parallel over the processes of a PyTorch group.

    Keras's `fit` has no data-parallel engine on the PyTorch backend, and
    `torch.nn.parallel.DistributedDataParallel` needs a loop of its own.
    This model keeps `fit`, its callbacks and its logs: each process of the
    default `torch.distributed` process group calls `fit` with the same
    global batches, and each trains on its own share of every batch, rows
    `rank * n` to `(rank + 1) * n - 1` where `n` is the batch size divided
    by the number of processes. One all-reduce a step then averages the
    gradients and adds up the metrics' updates, so every process applies
    the update that one process would for the whole batch, to float
    rounding, and logs the whole batch's loss and metrics. Evaluation and
    prediction run the whole batch in every process, without exchange.

    The split is exact for a loss averaged over equal shares of the batch,
    as Keras's losses are (`"sum_over_batch_size"`), and for metrics whose
    variables add up over the batch, `aggregation="sum"`, as every Keras
    metric's do; a variable with `aggregation="none"` stays each process's
    own. Random layers (dropout) draw the same masks in every process, by
    row position within a share.

    Compile it, not `model`; it shares `model`'s layers and weights, so
    `model` holds the trained weights and saves as usual.

    Args:
        model: The `keras.Model` to train.
        **kwargs: `keras.Model`'s arguments, such as `name`.

    Call arguments:
        inputs: `model`'s inputs.
        training: Python boolean, passed to `model`.

    Returns:
        `model`'s outputs.

    Raises:
        ValueError: Off the PyTorch backend; from `fit`, before
            `torch.distributed.init_process_group`, for a batch that does not
            divide between the processes, or for a metric variable with
            another `aggregation` than `"sum"` or `"none"`.
        ConnectionError: From `fit`, if a process of the group ended or
            stopped answering for the group's timeout.

    Examples:

    Run by every process of a group, with the same global batches:

    ```python
    torch.distributed.init_process_group("gloo")  # from torchrun's variables
    model = build_addition_model(16)
    trainer = TorchDataParallel(model)
    trainer.compile(optimizer="adam", loss="binary_crossentropy")
    trainer.fit(addition_dataset((8, 32), 256, seed=0), steps_per_epoch=200)
    if torch.distributed.get_rank() == 0:
        model.save("adder.keras")
    ```
    """

    def __init__(self, model: keras.Model, **kwargs):
        backend = keras.backend.backend()
        if backend != "torch":
            raise ValueError(
                f"`TorchDataParallel` needs the PyTorch backend of Keras "
                f"(KERAS_BACKEND=torch); received the {backend} backend."
            )
        super().__init__(**kwargs)
        self.inner = model
        if model.built:
            self.built = True

    def call(self, inputs, training=None):
        return self.inner(inputs, training=training)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "model": keras.saving.serialize_keras_object(self.inner),
        }

    @classmethod
    def from_config(cls, config: dict) -> TorchDataParallel:
        config = dict(config)
        model = keras.saving.deserialize_keras_object(config.pop("model"))
        return cls(model, **config)

    def train_step(self, data):
        import torch
        import torch.distributed as dist

        for v in self.metrics_variables:
            if v.aggregation not in ("sum", "none"):
                raise ValueError(
                    f"`TorchDataParallel` adds up metric variables over the "
                    f"processes (aggregation 'sum', as Keras's metrics' are) or "
                    f"keeps each process's own ('none'); received the variable "
                    f"{v.path!r} with aggregation={v.aggregation!r}."
                )
        if not dist.is_initialized():
            raise ValueError(
                "`TorchDataParallel` trains over the default process group of "
                "torch.distributed: call `torch.distributed.init_process_group` "
                "first."
            )
        rank, size = dist.get_rank(), dist.get_world_size()
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        rows = next(t for t in keras.tree.flatten(x) if t is not None).shape[0]
        if rows % size:
            raise ValueError(
                f"Received a batch of {rows} rows, which does not divide between "
                f"the {size} processes of the group."
            )
        share = rows // size
        x, y, sample_weight = keras.tree.map_structure(
            lambda t: None if t is None else t[rank * share : (rank + 1) * share],
            (x, y, sample_weight),
        )

        summed = [v for v in self.metrics_variables if v.aggregation == "sum"]
        before = [v.value.detach().clone() for v in summed]
        y_pred = self(x, training=True)
        self.zero_grad()
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=share)
        weights = self.trainable_weights
        self.optimizer.scale_loss(loss).backward()
        self.compute_metrics(x, y, y_pred, sample_weight)

        # One buffer, one all-reduce: a gloo call costs far more than its
        # bytes on CPU. Its dtype holds every part exactly.
        parts = [
            torch.zeros_like(v.value) if v.value.grad is None else v.value.grad
            for v in weights
        ]
        # Each process's update of each metric variable, to add up.
        parts += [v.value.detach() - old for v, old in zip(summed, before, strict=True)]
        dtypes = {part.dtype for part in parts}
        dtype = dtypes.pop() if len(dtypes) == 1 else torch.float64
        buffer = torch.cat([part.reshape(-1).to(dtype) for part in parts])
        try:
            dist.all_reduce(buffer)
        except RuntimeError as error:
            # gloo's messages run to several lines; the first names the peer.
            detail = str(error).strip().partition("\n")[0]
            raise ConnectionError(
                f"A process of the group stopped or stopped answering during "
                f"the gradients' all-reduce ({detail})."
            ) from error
        totals = iter(torch.split(buffer, [part.numel() for part in parts]))

        gradients = [
            (next(totals) / size).reshape(v.value.shape).to(v.value.dtype)
            for v in weights
        ]
        for v, old in zip(summed, before, strict=True):
            v.assign((old + next(totals).reshape(old.shape)).to(old.dtype))
        with torch.no_grad():
            self.optimizer.apply(gradients, weights)
        return self.get_metrics_result()
