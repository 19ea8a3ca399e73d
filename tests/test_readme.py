"""The README's two set-up commands are the ones CI runs, unchanged.

CI (`.ci/run`) starts from a fresh clone, so a command it runs is one that
works on a fresh machine; this keeps the README from promising another.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.DOTALL)


def test_readme_gives_exactly_two_one_line_setup_commands():
    commands = _setup_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in command for command in commands), commands
    assert "pytest" in commands[1], commands


@pytest.mark.parametrize(("index", "role"), [(0, "main command"), (1, "test command")])
def test_ci_runs_the_readme_setup_command_unchanged(index, role):
    command = _setup_commands()[index]
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert command in ci_lines, f"the README's {role} is not a line of .ci/run"


def test_ci_runs_the_test_command_first_in_an_empty_venv():
    lines = [
        line.strip()
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    before = lines[: lines.index(_setup_commands()[1])]
    # Nothing is installed before the newcomer's command, and a venv left by
    # a local run is removed.
    assert "rm -rf .venv" in before
    assert not [line for line in before if "pip " in line or "python" in line]
