"""The documentation site: API coverage, runnable code on the pages, links.

The code blocks on the pages are run here so that the docs cannot drift from
the package: each `pycon` block is a doctest, each `python` block is executed,
in page order and one namespace per page. A block is left out when the line
before its fence is `<!-- docs-test: skip -->` (for example a full training
run whose result the page shows).
"""

import doctest
import io
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import keras_gru_cell
import keras_gru_cell.addition

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_MARKER = "<!-- docs-test: skip -->"
# A fence with the line before it, at any indentation (tabs, admonitions).
FENCE = re.compile(
    r"^(?P<before>[^\n]*)\n(?P<indent> *)```(?P<lang>pycon|python)\b[^\n]*\n"
    r"(?P<code>.*?)\n(?P=indent)```[ ]*$",
    re.MULTILINE | re.DOTALL,
)
# Pages whose blocks train models or start processes take seconds, not
# milliseconds.
SLOW_PAGES = {"guide.md", "saving.md", "tutorial.md", "converting.md"}
# Pages that load SavedModels with TensorFlow, which the other backends of
# Keras do not do (`keras.layers.TFSMLayer`).
TENSORFLOW_PAGES = {"saving.md"}


def code_blocks(page: Path):
    """Yields (language, code, line number) for each block the tests run."""
    text = page.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        if match["before"].strip() == SKIP_MARKER:
            continue
        indent = len(match["indent"])
        code = "\n".join(line[indent:] for line in match["code"].splitlines())
        line = text.count("\n", 0, match.start("code")) + 1
        yield match["lang"], code, line


def pages_with_code():
    params = []
    for page in sorted(DOCS.rglob("*.md")):
        if not any(code_blocks(page)):
            continue
        name = str(page.relative_to(DOCS))
        marks = [pytest.mark.slow] if name in SLOW_PAGES else []
        if name in TENSORFLOW_PAGES:
            marks.append(
                pytest.mark.skipif(
                    keras.backend.backend() != "tensorflow",
                    reason="the page serves a SavedModel with TensorFlow",
                )
            )
        params.append(pytest.param(page, id=name, marks=marks))
    return params


@pytest.mark.parametrize("page", pages_with_code())
def test_code_on_the_page_runs(page, tmp_path, monkeypatch):
    # Pages save models to relative paths; keep them out of the repository.
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for language, code, line in code_blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        if language == "python":
            exec(compile(code, where, "exec"), namespace)
            continue
        test = parser.get_doctest(code, namespace, where, str(page), line)
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=flags)
        result = runner.run(test, out=report.write, clear_globs=False)
        assert result.failed == 0, report.getvalue()
        # A DocTest runs in a copy of its globals; later blocks need its names.
        namespace.update(test.globs)


def documented_names():
    api_text = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    return set(re.findall(r"^::: (keras_gru_cell[\w.]*\.\w+)", api_text, re.M))


def public_names():
    return {
        f"{module.__name__}.{name}"
        for module in (keras_gru_cell, keras_gru_cell.addition)
        for name in module.__all__
        if name != "__version__"
    }


def test_every_public_name_has_an_api_reference_entry():
    missing = public_names() - documented_names()
    assert not missing, f"not in docs/api/: {sorted(missing)}"


def test_every_api_reference_entry_is_public():
    assert documented_names() <= public_names()


@pytest.mark.slow
def test_site_builds_strictly_with_no_broken_links(tmp_path):
    site = tmp_path / "site"
    build = subprocess.run(
        # Not `-q`: it hides the warnings that `--strict` turns into errors.
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    check = subprocess.run(
        [sys.executable, str(DOCS / "scripts" / "check_links.py"), str(site)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
