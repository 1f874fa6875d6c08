"""The repository stands on its own: no file points outside it, and every relative Markdown link in
README.md and docs/ leads to a file (and heading) that exists in it. Whatever the project relies on
is written down inside the repository (docs/), so a clone holds everything it cites."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".md", ".py", ".yaml", ".yml", ".toml", ".txt"}
SCRIPT_NAMES = {"run"}  # ./run and .ci/run
# Documents that exist beside a working copy but never in a clone; cited only as a repository file.
OUTSIDE_DOCUMENTS = ("design", "style", "multi-account-deployment-guide")

# Each pattern, and each example below, is spelled so that this file itself does not match.
OUTSIDE_PATHS = {
    "a sibling directory of the repository": re.compile(r"\.\./shared\b"),
    "an absolute path of a working machine": re.compile(r"(?<![\w.-])/wor[k]/"),
    "an absolute home directory": re.compile(r"(?<![\w.-])(?:/hom[e]/|/User[s]/|/roo[t]/)"),
}
DOCUMENT_MENTION = re.compile(
    r"(?<![\w./-])(?:[\w.-]+/)*(?:" + "|".join(OUTSIDE_DOCUMENTS) + r")\.md\b"
)
PARENT_PATH = re.compile(r"(?<![\w.])(?:\.\./)+[\w.-]+")
DOCS_REFERENCE = re.compile(r"(?<![\w/.-])(?P<file>docs/[\w.-]+\.md)(?:#(?P<anchor>[\w-]+))?")

INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<target>[^\s>]+)>?", re.MULTILINE)
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)(?:\s+#+)?\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"(?P<name>[^\"]+)\"")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def repository_files() -> list[Path]:
    """Tracked files plus new ones not yet added (both are what a commit would publish);
    ignored files (.venv, records, caches) are not the repository's."""
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git working copy: the repository's files are unknown")
    listed = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({REPO / name for name in listed.split("\0") if name and (REPO / name).is_file()})


def text_files() -> list[Path]:
    return [p for p in repository_files() if p.suffix in TEXT_SUFFIXES or p.name in SCRIPT_NAMES]


def inside_repository(path: Path) -> bool:
    return path.resolve().is_relative_to(REPO)


def outside_references(text: str, where: Path) -> list[str]:
    """Every reference in ``text`` (the contents of ``where``) to a path outside the repository.
    (Each pattern looks through the whole text at once; a line is numbered only for a match.)"""

    def line(match: re.Match) -> int:
        return text.count("\n", 0, match.start()) + 1

    found = []
    for reason, pattern in OUTSIDE_PATHS.items():
        found += [f"line {line(m)}: {m.group(0)!r} ({reason})" for m in pattern.finditer(text)]
    for mention in DOCUMENT_MENTION.finditer(text):
        relative = mention.group(0).removeprefix("./")
        candidates = (REPO / relative, where.parent / relative)
        if not any(inside_repository(c) and c.is_file() for c in candidates):
            found.append(
                f"line {line(mention)}: {mention.group(0)!r} (a document that is not in the "
                "repository: cite docs/ or the guide by its title and section)"
            )
    for parent in PARENT_PATH.finditer(text):
        if not inside_repository(where.parent / parent.group(0)):
            found.append(f"line {line(parent)}: {parent.group(0)!r} (leaves the repository)")
    found.sort(key=lambda problem: int(problem.split(":")[0].removeprefix("line ")))
    return found


def test_no_file_points_outside_the_repository():
    files = text_files()
    assert REPO / "README.md" in files and REPO / "run" in files  # the listing works
    problems = {
        str(path.relative_to(REPO)): found
        for path in files
        if (found := outside_references(path.read_text(encoding="utf-8"), path))
    }
    assert not problems, problems


UP, WORK, HOME = ".." + "/", "/wor" + "k/", "/hom" + "e/"
DESIGN, GUIDE = "design" + ".md", "multi-account-deployment-guide" + ".md"


@pytest.mark.parametrize(
    "text",
    [
        f"See {UP}shared/{DESIGN}, section 2.",
        f"# The guide's deployment order ({DESIGN}): organization first.",
        f"compared with it ({DESIGN}, 'Checked facts')",
        f"[the guide]({UP}shared/guide/{GUIDE}#rollback-procedures)",
        f"the guide ({GUIDE})",
        f"read {WORK}shared/{DESIGN}",
        f"cache in {HOME}alice/.cache",
        f"see {UP}{UP}elsewhere/notes.txt",
    ],
)
def test_an_outside_reference_is_found(text):
    for where in (REPO / "README.md", REPO / "diagnyx_infra" / "cli.py"):
        assert outside_references(text, where), (text, where)


@pytest.mark.parametrize(
    "text",
    [
        "# The guide's deployment order (docs/design.md#deployment-order).",
        f"[design]({DESIGN})",  # from docs/, a page beside it in the repository
        "the main branch only (`GET .../environments/<name>`)",
        "(cd base && ./run cost estimate --all --json > ../base-cost.json)",
        'the guide "Diagnyx Multi-Account AWS Deployment Guide", section "Rollback Procedures"',
    ],
)
def test_a_reference_inside_the_repository_is_accepted(text):
    assert not outside_references(text, REPO / "docs" / DESIGN)


# --- Markdown links ----------------------------------------------------------------------------


def prose_lines(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks, with code spans removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        lines.append("" if fenced else CODE_SPAN.sub("", line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text, lower-cased, punctuation dropped, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    text = markdown.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    found = {m.group("name") for m in HTML_ANCHOR.finditer(text)}
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line)
        if heading:
            base = slug(heading.group("text"))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_target(source: Path, target: str) -> str | None:
    """Why a link from ``source`` to ``target`` does not resolve inside the repository, or None."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
        return None  # a URL, not a path in the repository
    path, _, anchor = target.partition("#")
    destination = (source.parent / path).resolve() if path else source
    if not inside_repository(destination):
        return "leaves the repository"
    if not destination.exists():
        return "no such file in the repository"
    if anchor:
        if destination.suffix != ".md":
            return "an anchor into a file that is not Markdown"
        if anchor not in anchors(destination):
            return f"no heading with the anchor #{anchor} in {destination.relative_to(REPO)}"
    return None


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_the_docs_pages_exist():
    assert {p.stem for p in markdown_files()} >= {
        "README",
        "design",
        "aws-rules",
        "limits-and-prices",
    }


def test_every_relative_markdown_link_resolves():
    problems = []
    for source in markdown_files():
        lines = prose_lines(source.read_text(encoding="utf-8"))
        targets = [
            (number, m.group("target"))
            for number, line in enumerate(lines, 1)
            for m in INLINE_LINK.finditer(line)
        ]
        targets += [
            (text.count("\n", 0, m.start()) + 1, m.group("target"))
            for text in ["\n".join(lines)]
            for m in REFERENCE_LINK.finditer(text)
        ]
        for number, target in targets:
            if (why := broken_target(source, target)) is not None:
                problems.append(f"{source.relative_to(REPO)}:{number}: ({target}) {why}")
    assert not problems, "\n".join(problems)


def test_every_cited_docs_page_and_section_exists():
    """Code comments cite `docs/<page>.md#<section>`; each must still lead somewhere."""
    problems = []
    for path in text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for cite in DOCS_REFERENCE.finditer(line):
                target = cite.group("file") + (f"#{cite.group('anchor')}" if cite["anchor"] else "")
                if (why := broken_target(REPO / "README.md", target)) is not None:
                    problems.append(f"{path.relative_to(REPO)}:{number}: {target}: {why}")
    assert not problems, "\n".join(problems)


def test_a_heading_anchor_is_spelled_as_github_spells_it():
    assert slug("The account baseline (guide, Phase 2)") == "the-account-baseline-guide-phase-2"
    assert slug("Least privilege (`diagnyx access`)") == "least-privilege-diagnyx-access"
    assert slug("Rehearsal (`diagnyx rehearse [STACK | --all]`)") == (
        "rehearsal-diagnyx-rehearse-stack----all"
    )
