"""The code in README.md and docs/*.md runs as pasted.

- SPARQL blocks run on a store the quickstart builds (the samples), and must answer;
- Python blocks run (one namespace per page, in a directory holding that store as ``hyperontology-store``);
  ``>>>`` blocks run as doctests;
- TOML blocks parse; YAML mapping files load with the mapping loader;
- shell blocks (fenced, or indented by four spaces): every ``hyperontology`` command line parses with the CLI's
  own parser (so its sub-commands and options exist), and every ``python path/to/script.py`` names a file of the
  repository.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hyperontology.cli.main import build_parser
from hyperontology.cli.main import main as cli_main
from hyperontology.store.base import open_store

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "ontologies" / "README.md",
         REPO / "mappings" / "valuemaps" / "README.md"]
SHELL = {"", "sh", "bash", "shell", "console"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}:{self.lang or 'shell'}"


def blocks(page: Path) -> Iterator[Block]:
    """Fenced blocks (with their language) and blocks indented by four spaces after a blank line (shell)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            yield Block(page, i + 1, fence.group(1).lower(), "\n".join(lines[i + 1:end]) + "\n")
            i = end + 1
            continue
        if lines[i].startswith("    ") and lines[i].strip() and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            yield Block(page, i + 1, "", "\n".join(line[4:] for line in lines[i:end]).strip() + "\n")
            i = end
            continue
        i += 1


ALL = [b for page in PAGES for b in blocks(page)]


def _of(*langs: str) -> list[Block]:
    return [b for b in ALL if b.lang in langs]


def test_the_pages_have_examples() -> None:
    assert _of("sparql") and _of("python") and _of(*SHELL)
    assert any(b.page.name == "README.md" and b.lang == "sparql" for b in ALL)


# ------------------------------------------------------------------------------------------ the store
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``hyperontology-store``, built by the quickstart as a newcomer would."""
    root = tmp_path_factory.mktemp("docs")
    key = os.environ.pop("HYPERONTOLOGY_KEY", None)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_main(["quickstart", "--store", str(root / "hyperontology-store")]) == 0
    finally:
        if key is not None:
            os.environ["HYPERONTOLOGY_KEY"] = key
    return root


@pytest.mark.parametrize("block", _of("sparql"), ids=lambda b: b.id)
def test_sparql_runs_on_a_real_store(block: Block, workdir: Path) -> None:
    with open_store(workdir / "hyperontology-store", read_only=True) as store:
        rows = list(store.query(block.text))  # a fragment without its PREFIX lines is a SyntaxError here
    assert rows, "the example answers nothing on the quickstart's store"
    counts = [term.value for row in rows for term in row if term is not None]
    assert any(value != "0" for value in counts), f"only zero counts: {counts}"


# ------------------------------------------------------------------------------------------ Python
@pytest.mark.parametrize("page", sorted({b.page for b in _of("python")}), ids=lambda p: p.name)
def test_python_runs(page: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in (b for b in _of("python") if b.page == page):
        if block.text.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(block.text, namespace, block.id, str(page), block.line)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            out = io.StringIO()
            runner.run(test, out=out.write, clear_globs=False)
            assert runner.failures == 0, out.getvalue()
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(block.text, block.id, "exec"), namespace)  # noqa: S102 - our own docs


# ------------------------------------------------------------------------------------------ data blocks
@pytest.mark.parametrize("block", _of("toml"), ids=lambda b: b.id)
def test_toml_parses(block: Block) -> None:
    assert tomllib.loads(block.text)


@pytest.mark.parametrize("block", _of("yaml"), ids=lambda b: b.id)
def test_yaml_mapping_loads(block: Block, tmp_path: Path) -> None:
    from hyperontology.mapping.loader import MappingSet, default_mappings_dir

    data = yaml.safe_load(block.text)
    if not (isinstance(data, dict) and "mapping" in data):
        return
    (tmp_path / "example.yaml").write_text(block.text, encoding="utf-8")
    assert MappingSet.load(tmp_path, valuemaps_dir=default_mappings_dir() / "valuemaps").specs


# ------------------------------------------------------------------------------------------ shell
def commands(text: str) -> Iterator[list[str]]:
    """The simple commands of a shell block: lines joined at ``\\``, comments dropped, split at ``&&``, ``|``,
    ``;``, redirections and what follows them left out.

    Examples
    --------
    >>> list(commands("a b && c --x 1 > out.txt  # note\\nd | e < in"))
    [['a', 'b'], ['c', '--x', '1'], ['d'], ['e']]
    """
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        skip = False
        for token in lexer:
            if token in ("&&", "||", "|", ";", "&"):
                if command:
                    yield command
                command, skip = [], False
            elif token in ("<", ">", ">>", "2>", "2>&1"):
                skip = True
            elif skip:
                skip = False
            else:
                command.append(token)
        if command:
            yield command


def _check_command(argv: list[str]) -> None:
    if argv[0] == "hyperontology":
        parser = build_parser()
        parser.exit_on_error = False
        try:
            with contextlib.redirect_stderr(io.StringIO()) as err:
                parser.parse_args(argv[1:])
        except SystemExit as exc:
            pytest.fail(f"{shlex.join(argv)}: the CLI refuses it: {err.getvalue().strip()} ({exc})")
    elif argv[0] in ("python", "python3") and len(argv) > 1 and argv[1].endswith(".py"):
        assert (REPO / argv[1]).is_file(), f"{shlex.join(argv)}: no {argv[1]} in the repository"


@pytest.mark.parametrize("block", _of(*SHELL), ids=lambda b: b.id)
def test_shell_commands_exist(block: Block) -> None:
    for argv in commands(block.text):
        _check_command(argv)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_files_the_pages_name_exist(page: Path) -> None:
    """A path in backquotes (``mappings/build/valuemaps.py``) names a file of the repository (from its root or from
    the page's folder; globs match something)."""
    text = page.read_text(encoding="utf-8")
    named = re.findall(r"`((?:[\w.-]+/)+[\w.*-]+\.(?:py|tsv|yaml|ttl|md|json|ipynb))`", text)
    missing = [name for name in named
               if not any(any(base.glob(name)) if "*" in name else (base / name).exists()
                          for base in (REPO, page.parent))]
    assert not missing, f"{page.name} names files the repository does not have: {missing}"


def test_the_console_script_answers_help() -> None:
    """The commands the pages use are sub-commands of the installed console script."""
    used = sorted({argv[1] for b in _of(*SHELL) for argv in commands(b.text)
                   if argv[0] == "hyperontology" and len(argv) > 1 and not argv[1].startswith("-")})
    assert "ingest" in used and "serve" in used
    for name in used:
        proc = subprocess.run([sys.executable, "-m", "hyperontology", name, "--help"], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("usage: hyperontology " + name)
