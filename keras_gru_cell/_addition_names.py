"""Stand-ins under the addition's registered names, so its files load anywhere.

An addition model file names its layer, loss and metric by the names that
`keras_gru_cell.addition` registers (`keras_gru_cell>TimeDistributed`, ...),
as 0.1.0 did when they lived in `keras_gru_cell` itself. That package
imports TensorFlow, which `import keras_gru_cell` must not, so a file loaded
after `import keras_gru_cell` alone found none of those names. The library
registers under each name a stand-in that costs nothing until a file asks
for it: its `from_config` imports `keras_gru_cell.addition`, whose classes
take their names back as it registers them, and builds the real object.
"""

import importlib

import keras

# The names `keras_gru_cell.addition` registers; a test keeps the two equal.
ADDITION_NAMES = (
    "ExactMatch",
    "QuadraticLoss",
    "SymmetricSummands",
    "TimeDistributed",
    "TorchDataParallel",
)


def _stand_in(name: str) -> type:
    def from_config(cls, config):
        try:
            addition = importlib.import_module("keras_gru_cell.addition")
        except ImportError as error:
            raise ImportError(
                f"This file holds `keras_gru_cell>{name}`, which loads only "
                f"with `import keras_gru_cell.addition`, and that failed: {error}"
            ) from error
        return getattr(addition, name).from_config(config)

    def get_config(self):
        # Keras registers only classes with a `get_config`; a stand-in is
        # never built, so this never runs.
        raise TypeError(f"The stand-in for `keras_gru_cell>{name}` has no config.")

    return type(
        name,
        (),
        {
            "__module__": __name__,
            "__doc__": f"Builds `keras_gru_cell.addition.{name}` from a saved config.",
            "from_config": classmethod(from_config),
            "get_config": get_config,
        },
    )


def register_stand_ins() -> None:
    """Registers a stand-in under each name until the addition takes it back."""
    for name in ADDITION_NAMES:
        keras.saving.register_keras_serializable(package="keras_gru_cell", name=name)(
            _stand_in(name)
        )
