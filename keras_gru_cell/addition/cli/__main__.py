"""`python -m keras_gru_cell.addition.cli`: the command, run as a module."""

import sys

from _keras_gru_cell_process import exit_at_once_on_signals
from keras_gru_cell.addition.cli import main

exit_at_once_on_signals()
sys.exit(main())
