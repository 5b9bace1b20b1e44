"""The docs are checked against the tree: every file, test, make target and `python -m` module that
README.md, docs/ or a folder's README cites exists, and nothing in the repository cites a file outside
it or an issue tracker's number (a reader of a clone has neither)."""

import ast
import importlib.util
import os
import re
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Iterator, List, Optional, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Folders that are not the project's own text: made by installs and runs, or vendored.
NOT_OURS = {".git", ".venv", ".venv-pyairbyte", ".venv-packaging", ".venv-constraints", "node_modules", "__pycache__", "demo_output", ".pytest_cache", "build"}
# Files the docs name that the reader makes (their config, state and output), or that a command
# makes: checked against nothing.
READERS_FILES = {"secrets", "config.json", "state.json", "messages.jsonl", "metronome.duckdb", "demo_output", "venv-metronome", ".venv", ".venv-pyairbyte", ".venv-packaging"}
# Extensions of files the docs cite; a backticked word with one of these (or ending in "/", or
# starting with a folder of the repository) is a path.
EXTENSIONS = (".py", ".json", ".yml", ".yaml", ".md", ".txt", ".sh", ".ini", ".svg", ".cfg", ".toml", ".lock")
COMMANDS = {"make", "python", "python3", "pytest", "bash"}


def doc_files() -> List[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("*/README.md"))]


def our_files() -> Iterator[Path]:
    for folder, folders, files in os.walk(ROOT):
        folders[:] = sorted(name for name in folders if name not in NOT_OURS and not name.endswith(".egg-info"))
        yield from (Path(folder) / name for name in sorted(files) if name not in NOT_OURS)


@lru_cache(maxsize=None)
def _tree() -> Tuple[str, ...]:
    files = [path.relative_to(ROOT).as_posix() for path in our_files()]
    folders = {"/".join(file.split("/")[:depth]) + "/" for file in files for depth in range(1, file.count("/") + 1)}
    return tuple(files) + tuple(folders)


@lru_cache(maxsize=None)
def _sdk_tree() -> Tuple[str, ...]:
    """metronome-sdk's files (the docs cite its models as `types/...`): installed with the test extras."""
    spec = importlib.util.find_spec("metronome")
    if spec is None or not spec.submodule_search_locations:
        return ()
    package = Path(list(spec.submodule_search_locations)[0])
    return tuple(path.relative_to(package).as_posix() for path in package.rglob("*.py"))


def resolve(reference: str, doc: Path) -> List[Path]:
    """The files of the repository (or of the SDK) a doc means by `reference`: relative to the doc's
    folder, to the root, or, for a name without its folders, any file whose path ends with it."""
    reference = reference.removeprefix("./")
    for base in (doc.parent, ROOT):
        if (base / reference).exists() and ROOT in (base / reference).resolve().parents:
            return [(base / reference).resolve()]
    if reference.startswith(("/", "../")):
        return []
    found = [ROOT / path for path in _tree() if path == reference or path.endswith("/" + reference)]
    if found:
        return found
    sdk = [path for path in _sdk_tree() if path == reference or path.endswith("/" + reference)]
    return [Path("metronome-sdk") / path for path in sdk]


def _functions(path: Path) -> Set[str]:
    if not path.is_file() or path.suffix != ".py":
        return set()
    return {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _make_targets() -> Set[str]:
    return set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def _module_exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    if (path.with_suffix(".py")).is_file() or (path / "__init__.py").is_file():
        return True
    if (ROOT / module.split(".")[0]).exists():
        return False
    return importlib.util.find_spec(module.split(".")[0]) is not None


def _is_readers_file(reference: str) -> bool:
    return reference.removeprefix("/").split("/")[0] in READERS_FILES or "*" in reference and not reference.startswith(tuple(_tree()))


def path_problem(reference: str, doc: Path) -> Optional[str]:
    """What is wrong with a cited path (`file`, `folder/`, `file.py::test_name`), if anything."""
    path, _, test = reference.partition("::")
    if _is_readers_file(path):
        return None
    if "*" in path:
        return None if list(ROOT.glob(path)) else f"{reference}: matches no file"
    files = resolve(path, doc)
    if not files:
        return f"{reference}: no such file or folder"
    if test:
        names = [part.split("[")[0] for part in test.split("::")]
        if not any(set(names) <= _functions(file) for file in files):
            return f"{reference}: no such test in {', '.join(str(file.relative_to(ROOT)) for file in files)}"
    return None


def command_problems(command: str, doc: Path) -> List[str]:
    """What is wrong with a cited command line: a make target, a `-m` module, a path argument."""
    problems = []
    for part in re.split(r"&&|\|\||;|\|", command.split(" #")[0]):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        words = [word for word in words if "=" not in word or word.startswith("-")]
        if not words:
            continue
        program = words[0]
        if "/" in program:
            if not program.startswith((".venv/bin/", ".venv-pyairbyte/bin/", ".venv-packaging/bin/", "venv-metronome/bin/")):
                problems.append(f"`{command}`: {program} is not one of the venvs the Makefile, .ci/run or the docs make")
            program = program.rsplit("/", 1)[1]
        if program == "make":
            problems += [f"`{command}`: no make target {target!r}" for target in words[1:] if not target.startswith("-") and target not in _make_targets()]
        elif program.startswith("python") or program == "pytest" or program == "bash":
            arguments = words[1:]
            if program.startswith("python") and "-m" in arguments:
                module = arguments[arguments.index("-m") + 1]
                if module == "pytest":
                    arguments = arguments[arguments.index("-m") + 2 :]
                elif not _module_exists(module):
                    problems.append(f"`{command}`: no module {module}")
                    continue
                else:
                    continue
            for argument in arguments:
                if argument.startswith("-") or "<" in argument or not _looks_like_a_path(argument):
                    continue
                problem = path_problem(argument, doc)
                if problem:
                    problems.append(f"`{command}`: {problem}")
    return problems


def _looks_like_a_path(word: str) -> bool:
    if not re.fullmatch(r"[\w./*-]+(::[\w\[\]-]+)*", word) or word.startswith("/v1") or "//" in word:
        return False
    path = word.split("::")[0]
    return path.endswith(EXTENSIONS) or path.endswith("/") or "::" in word or ("/" in path and (ROOT / path.split("/")[0]).exists())


def references(doc: Path) -> Iterator[Tuple[str, str]]:
    """(kind, text) of each citation in a doc: inline code spans, shell lines of code blocks, and
    relative links."""
    fence: Optional[str] = None
    for line in doc.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else line.strip("` ")
            continue
        if fence is not None:
            if fence in ("", "bash", "sh", "shell") and line.split() and line.split()[0].rsplit("/", 1)[-1] in COMMANDS | {"pytest"}:
                yield "command", line.strip()
            continue
        for span in re.findall(r"`([^`]+)`", line):
            first = span.split()[0] if span.split() else ""
            if first.rsplit("/", 1)[-1] in COMMANDS and (first in COMMANDS or first.startswith(".venv")):
                yield "command", span
            elif " " not in span and _looks_like_a_path(span):
                yield "path", span
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
                yield "path", target.split("#")[0]


def doc_problems(doc: Path) -> List[str]:
    problems = []
    for kind, text in references(doc):
        found = command_problems(text, doc) if kind == "command" else [problem for problem in [path_problem(text, doc)] if problem]
        problems += [f"{doc.relative_to(ROOT)}: {problem}" for problem in found]
    return problems


# Citations a clone cannot follow: the team's notes outside the repository, and issue numbers. The
# patterns are spelled so that this file does not match them itself.
OUTSIDE_CITATIONS = re.compile(r"NOTES\.md|NOTES mention[s]|\.\./shared/|/wor[k]/|shared/metronome[-]api|\bissues?\s*#?\d+\b", re.IGNORECASE)
# Vendored text, quoted as published.
VENDORED = {"contract_tests/openapi-2023.json", "contract_tests/package-lock.json"}


def outside_citations(path: Path) -> List[str]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return []
    return [f"{path.relative_to(ROOT)}:{number}: {line.strip()[:160]}" for number, line in enumerate(text.splitlines(), 1) if OUTSIDE_CITATIONS.search(line)]


class TestDocsCiteWhatExists:
    @pytest.mark.parametrize("doc", doc_files(), ids=lambda doc: str(doc.relative_to(ROOT)))
    def test_given_a_doc_when_its_citations_are_resolved_then_every_file_test_target_and_module_exists(self, doc: Path):
        assert doc_problems(doc) == []

    def test_given_a_doc_citing_what_does_not_exist_then_each_is_reported(self, tmp_path):
        doc = ROOT / "docs" / "example.md"
        text = (
            "See `unit_tests/test_http_exchange.py::test_that_was_removed`, `benchmarks/gone.py`, "
            "[the guide](docs/missing.md), and run `make nothing` or `.venv/bin/python -m benchmarks.gone`.\n"
            "```bash\n/tmp/venv/bin/pytest integration_tests -q\n```\n"
            "Fine: `unit_tests/test_docs.py::TestDocsCiteWhatExists`, `make test`, `secrets/config.json`, `types/shared/commit.py`.\n"
        )
        found = []
        for kind, reference in _references_of(text):
            found += command_problems(reference, doc) if kind == "command" else [problem for problem in [path_problem(reference, doc)] if problem]
        assert found == [
            "unit_tests/test_http_exchange.py::test_that_was_removed: no such test in unit_tests/test_http_exchange.py",
            "benchmarks/gone.py: no such file or folder",
            "`make nothing`: no make target 'nothing'",
            "`.venv/bin/python -m benchmarks.gone`: no module benchmarks.gone",
            "docs/missing.md: no such file or folder",
            "`/tmp/venv/bin/pytest integration_tests -q`: /tmp/venv/bin/pytest is not one of the venvs the Makefile, .ci/run or the docs make",
        ]


def _references_of(text: str) -> List[Tuple[str, str]]:
    class Doc:
        parent = ROOT / "docs"

        @staticmethod
        def read_text() -> str:
            return text

    return list(references(Doc))  # type: ignore[arg-type]


class TestNothingCitesOutsideTheRepository:
    def test_given_every_file_of_the_repository_then_none_cites_the_team_notes_a_shared_folder_or_an_issue_number(self):
        found = [line for path in our_files() if path.relative_to(ROOT).as_posix() not in VENDORED for line in outside_citations(path)]
        assert found == []

    def test_given_citations_a_clone_cannot_follow_then_each_is_matched(self):
        for text in ("(NOTES" ".md, Pagination)", "../shared" "/metronome-api", "as in issue" " #13", "For Issue" " 8's streams", "/wor" "k/shared"):
            assert OUTSIDE_CITATIONS.search(text), text
        assert not OUTSIDE_CITATIONS.search("types/shared/commit.py, the issued_at of 13 invoices")
