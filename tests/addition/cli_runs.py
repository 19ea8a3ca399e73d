"""Running `keras-gru-cell` in the test process, and reading its errors."""

import re

from keras_gru_cell.addition.cli import main


def run_cli(capsys, *argv):
    """`main(argv)`'s exit status and what it printed to stdout and stderr."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_usage_error(status, err, pattern):
    """A usage error: status 2 and one line on stderr that matches `pattern`."""
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("keras-gru-cell: error: ")
    assert re.search(pattern, lines[0]), lines[0]
