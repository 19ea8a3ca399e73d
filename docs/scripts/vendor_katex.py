"""Copies KaTeX from the npm registry into docs/assets/katex/.

The site renders its equations with KaTeX served from the site itself, not
from a CDN, so that the docs work offline and a build can be checked on a
machine with no internet. Only what the pages load is kept: the minified
script and style sheet, the auto-render extension and the WOFF2 fonts (every
browser that runs KaTeX reads WOFF2, so the style sheet's WOFF and TrueType
fallbacks are dropped with their files).

Run from the repository root, with Node.js's `npm` on the PATH:

    python docs/scripts/vendor_katex.py

The output is committed; rerun only to change KATEX_VERSION.
"""

import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

KATEX_VERSION = "0.19.1"
DESTINATION = Path(__file__).resolve().parents[1] / "assets" / "katex"
KEPT_FILES = {
    "package/LICENSE": "LICENSE",
    "package/dist/katex.min.js": "katex.min.js",
    "package/dist/contrib/auto-render.min.js": "auto-render.min.js",
}
# The fallbacks after each WOFF2 source in an @font-face rule.
FONT_FALLBACKS = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("[a-z]+"\)')


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"katex@{KATEX_VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(Path(tmp) / f"katex-{KATEX_VERSION}.tgz") as archive:
            archive.extractall(tmp, filter="data")
        package = Path(tmp)

        shutil.rmtree(DESTINATION, ignore_errors=True)
        (DESTINATION / "fonts").mkdir(parents=True)
        for source, target in KEPT_FILES.items():
            shutil.copyfile(package / source, DESTINATION / target)
        css = (package / "package/dist/katex.min.css").read_text()
        (DESTINATION / "katex.min.css").write_text(FONT_FALLBACKS.sub("", css))
        for font in (package / "package/dist/fonts").glob("*.woff2"):
            shutil.copyfile(font, DESTINATION / "fonts" / font.name)
    print(f"KaTeX {KATEX_VERSION} written to {DESTINATION}")


if __name__ == "__main__":
    main()
