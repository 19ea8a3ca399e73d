"""Finds broken internal links in a built site.

Every `href` and `src` in every HTML page that points inside the site must
name a file that exists, and a `#fragment` must name an `id` on the target
page. Links to other sites are counted, not followed: the docs are built and
checked offline.

    mkdocs build --strict
    python docs/scripts/check_links.py site

Exits 1 and lists each broken link when there is one.
"""

from __future__ import annotations

import argparse
import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote
from urllib.parse import urlsplit

LINK_ATTRIBUTES = {"href", "src"}


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in LINK_ATTRIBUTES:
                self.links.append(value)
            elif name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)


@cache
def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _target_file(site: Path, page: Path, path: str) -> Path:
    if not path:
        return page
    base = site if path.startswith("/") else page.parent
    target = (base / unquote(path).lstrip("/")).resolve()
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def broken_links(site: Path) -> tuple[list[str], int]:
    """Returns the broken internal links of a built site and the external count.

    Args:
        site: The folder `mkdocs build` wrote.

    Returns:
        A list of `"page: link (reason)"` strings, empty when every internal
        link resolves, and the number of links to other sites.
    """
    site = site.resolve()
    broken, external = [], 0
    for page in sorted(site.rglob("*.html")):
        for link in _parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                external += parts.scheme in ("http", "https", "")
                continue
            target = _target_file(site, page, parts.path)
            where = f"{page.relative_to(site)}: {link}"
            if site not in target.parents:
                broken.append(f"{where} (points outside the site)")
            elif not target.is_file():
                broken.append(f"{where} (no file {target.relative_to(site)})")
            elif (
                parts.fragment
                and target.suffix == ".html"
                and unquote(parts.fragment) not in _parse(target).ids
            ):
                broken.append(f"{where} (no id {parts.fragment!r} on the page)")
    return broken, external


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the folder mkdocs build wrote")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(
            f"error: {args.site} holds no built site (no index.html)", file=sys.stderr
        )
        return 2
    broken, external = broken_links(args.site)
    pages = sum(1 for _ in args.site.rglob("*.html"))
    for line in broken:
        print(line)
    print(
        f"{pages} pages checked: {len(broken)} broken internal links, "
        f"{external} external links not followed."
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
