"""Writes the `keras-gru-cell` command's help texts for the Command line page.

Each subcommand's `--help`, as the installed command prints it, goes into
docs/snippets/cli_help.md, which docs/api/cli.md includes: the page shows
exactly what the command accepts. Run from the repository root after
changing the command line:

    python docs/scripts/cli_reference.py
"""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = ROOT / "docs" / "snippets" / "cli_help.md"
COMMANDS = [[], ["train"], ["add"], ["evaluate"], ["export"]]


def help_text(subcommand: list[str]) -> str:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "80"}
    result = subprocess.run(
        ["keras-gru-cell", *subcommand, "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.rstrip()


def main() -> None:
    sections = []
    for subcommand in COMMANDS:
        command = " ".join(["keras-gru-cell", *subcommand])
        title = f"`{command}`" if subcommand else "Usage"
        sections.append(
            f"## {title}\n\n```console\n$ {command} --help\n"
            f"{help_text(subcommand)}\n```\n"
        )
    SNIPPET.parent.mkdir(parents=True, exist_ok=True)
    SNIPPET.write_text("\n".join(sections))
    print(f"wrote {SNIPPET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
