"""Trains a small model with `TorchDataParallel`, as one process of a group.

Run as a script by tests/addition/test_torch_data_parallel.py:
`python torch_data_parallel_child.py COORDINATOR PROCESSES PROCESS_ID OUT`.
With one process it trains the plain model on the whole batch, the
reference. Every process trains on the same global batches, with sample
weights and a weighted metric; process 0 writes the final weights and the
logged loss and metric to OUT (`.npz`).
"""

import sys

BATCH, STEPS = 12, 4


def main(coordinator: str, processes: int, process_id: int, out: str) -> None:
    # Here, not at the top: pytest's doctest collection imports this file,
    # and Keras's backend must be the child's, which the test sets.
    import keras
    import numpy as np
    import torch

    from keras_gru_cell.addition.torch_data_parallel import TorchDataParallel

    if processes > 1:
        torch.distributed.init_process_group(
            "gloo",
            init_method=f"tcp://{coordinator}",
            world_size=processes,
            rank=process_id,
        )
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    trained = TorchDataParallel(model) if processes > 1 else model
    trained.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss="mse",
        weighted_metrics=["mae"],
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * STEPS, 3)).astype("float32")
    y = rng.standard_normal((BATCH * STEPS, 1)).astype("float32")
    weights = rng.uniform(0.5, 2.0, BATCH * STEPS).astype("float32")
    history = trained.fit(
        x,
        y,
        sample_weight=weights,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=0,
    )
    if process_id == 0:
        np.savez(
            out,
            *model.get_weights(),
            loss=history.history["loss"],
            mae=history.history["mae"],
        )
    if processes > 1:
        # Process 0 writes while the others wait: none ends first.
        torch.distributed.barrier()


if __name__ == "__main__":
    # Started with KERAS_BACKEND=torch.
    coordinator, processes, process_id, out = sys.argv[1:]
    main(coordinator, int(processes), int(process_id), out)
