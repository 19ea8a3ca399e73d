"""The `keras-gru-cell` command line: the global options and the commands.

Each command is a module of this package with an `add_parser(commands)`,
which declares its options, and a `run(args)`, which does its work.
"""

from __future__ import annotations

import argparse

from _keras_gru_cell_process import PROG
from keras_gru_cell.addition.cli import add
from keras_gru_cell.addition.cli import evaluate
from keras_gru_cell.addition.cli import export
from keras_gru_cell.addition.cli import train
from keras_gru_cell.addition.cli.options import Parser
from keras_gru_cell.version import __version__

# In the order `--help` lists them.
COMMANDS = {"train": train, "add": add, "evaluate": evaluate, "export": export}


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line, commands included."""
    parser = Parser(
        prog=PROG,
        description="Train and use a GRU that adds binary numbers of any length.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__}",
        help="print the version and exit",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an unexpected error, print its full traceback; also show "
        "TensorFlow's start-up log (default: off)",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for command in COMMANDS.values():
        command.add_parser(commands)
    return parser
