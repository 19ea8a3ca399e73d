"""A griffe extension that renders Keras's `Call arguments:` section as a table.

Keras documents a layer's `call` arguments in the class docstring, in a
`Call arguments:` section written like `Args:`. Google-style parsers know no
such section and would render it as one run-on paragraph; this extension turns
it into a parameter table titled "Call arguments", like "Parameters" above it.
mkdocs.yml loads it through the mkdocstrings Python handler's `extensions`.
"""

from __future__ import annotations

import re
import textwrap

import griffe

TITLE = "Call arguments"
# "name: description" at the section's own indentation starts an item; more
# deeply indented lines continue the description.
_ITEM = re.compile(r"^(?P<name>\*{0,2}\w+): (?P<description>.*)$")


def _parse_items(text: str) -> list[griffe.DocstringParameter]:
    items: list[tuple[str, list[str]]] = []
    for line in textwrap.dedent(text).splitlines():
        match = _ITEM.match(line)
        if match:
            items.append((match["name"], [match["description"]]))
        elif items and line.strip():
            items[-1][1].append(line.strip())
    return [
        griffe.DocstringParameter(name, description=" ".join(lines))
        for name, lines in items
    ]


class CallArguments(griffe.Extension):
    """Replaces each `Call arguments:` admonition by a parameter section."""

    # The members hook, rather than griffe 2's `on_class`, also runs on griffe 1.
    def on_class_members(self, *, cls: griffe.Class, **kwargs) -> None:
        # Parsing is lazy and warns; parse only what this extension rewrites.
        if cls.docstring is None or f"{TITLE}:" not in cls.docstring.value:
            return
        sections = cls.docstring.parsed
        for index, section in enumerate(sections):
            if (
                section.kind is griffe.DocstringSectionKind.admonition
                and section.title == TITLE
            ):
                sections[index] = griffe.DocstringSectionOtherParameters(
                    _parse_items(section.value.contents), title=f"{TITLE}:"
                )
