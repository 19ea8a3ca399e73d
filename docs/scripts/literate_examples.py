"""An mkdocs hook that renders the literate scripts in examples/ as pages.

A script in examples/ is written to be read, in the keras.io style: a header
docstring (`Title:`, `Description:`, then prose), then sections, each opened
by a `## Section title` comment line; the `#` comment lines right after the
title are the section's prose, and the rest is its code. A page whose
Markdown holds the line

    <!-- literate: examples/NAME.py -->

gets that line replaced by the script rendered as Markdown: the title as the
page heading, the prose as text and the code as highlighted Python, in the
script's order. The script stays the single source, and the page is rebuilt
from it on every build. mkdocs.yml loads this file under `hooks`.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

MARKER = re.compile(r"^<!-- literate: (?P<path>\S+\.py) -->$", re.MULTILINE)
HEADER_FIELD = re.compile(r"^(Title|Author|Date created|Last modified|Accelerator):")
SECTION = re.compile(r"^## (?P<title>.+)$")


def _header(text: str) -> tuple[str, str]:
    """The title and the rest of a keras-io header, as Markdown."""
    title, description, body, field = "", [], [], None
    for line in textwrap.dedent(text).strip().splitlines():
        if line.startswith("Title:"):
            title, field = line.removeprefix("Title:").strip(), None
        elif line.startswith("Description:"):
            field = description
            description.append(line.removeprefix("Description:").strip())
        elif HEADER_FIELD.match(line):
            field = None
        elif field is description and line.startswith((" ", "\t")):
            description.append(line.strip())
        else:
            field = None
            body.append(line)
    intro = f"*{' '.join(description)}*\n\n" if description else ""
    return title, intro + "\n".join(body).strip()


def _section(lines: list[str]) -> list[str]:
    """A section's prose (its leading comment lines) and code, as Markdown."""
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    prose = []
    while index < len(lines) and lines[index].startswith("#"):
        prose.append(lines[index].removeprefix("#").removeprefix(" "))
        index += 1
    code = "\n".join(lines[index:]).strip("\n")
    parts = ["\n".join(prose).strip()] if prose else []
    if code.strip():
        parts.append(f"```python\n{code}\n```")
    return parts


def render(path: Path, display_path: str) -> str:
    """The Markdown of one literate script."""
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source)
    docstring = ast.get_docstring(module, clean=False)
    if docstring is None:
        raise ValueError(f"{display_path} has no header docstring")
    title, intro = _header(docstring)
    lines = source.splitlines()[module.body[0].end_lineno :]

    parts = [f"# {title}", f"`{display_path}`", intro]
    section: list[str] = []
    for line in lines:
        match = SECTION.match(line)
        if match:
            parts.extend(_section(section))
            parts.append(f"## {match['title']}")
            section = []
        else:
            section.append(line)
    parts.extend(_section(section))
    return "\n\n".join(part for part in parts if part) + "\n"


def on_page_markdown(markdown, page, config, files, **kwargs):
    root = Path(config["config_file_path"]).parent

    def replace(match):
        return render(root / match["path"], match["path"])

    return MARKER.sub(replace, markdown)
