"""Every example in README.md and docs/*.md runs as written.

The fenced ``python`` blocks of one document run in order in one interpreter
(like a notebook), in an empty temporary directory, against the installed
package.  In ``sh`` blocks, each line that runs a nanobook command
(``python -m nanobook ...``, ``rebalance ...``) runs too, in the same
directory, at its place in the document, and must exit 0.

A block that cannot run here (a live broker, a venue) is marked in the
document itself, on the line just before its fence, with a visible line

    *Not run by the doc tests: <reason>.*

and is reported as a skip under its own name; nothing is skipped silently.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP = re.compile(r"^\*Not run by the doc tests: (.+?)\.?\*\s*$")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)(.*)$")
# A shell line that runs one of our commands: `python -m nanobook ...` or `rebalance ...`.
COMMAND = re.compile(r"^(?:\$\s+)?(python3? -m (?:nanobook|nanobook_rebalancer)\b.*|rebalance\b.*)$")


@dataclass
class Block:
    doc: str
    line: int          # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None   # the reason given in the document, or None

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced python and sh blocks of a Markdown file, in order."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = str(path.relative_to(ROOT))
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).lower()
        start = i
        j = i + 1
        while j < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[j]):
            j += 1
        body = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[i + 1:j]]
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        reason = SKIP.match(lines[k].strip()) if k >= 0 else None
        if lang in ("python", "py", "sh", "bash", "shell", "console"):
            out.append(Block(rel, start + 1, "python" if lang in ("python", "py") else "sh",
                             "\n".join(body) + "\n", reason.group(1) if reason else None))
        i = j + 1
    return out


def shell_commands(code: str) -> list[str]:
    """The lines of an sh block that run a nanobook command (comments cut off)."""
    cmds = []
    for raw in code.splitlines():
        line = raw.split(" #", 1)[0].strip()
        m = COMMAND.match(line)
        if m:
            cmds.append(m.group(1))
    return cmds


# The driver runs in the child interpreter: it executes the python blocks in
# one namespace and the command lines through the installed entry points.
DRIVER = r'''
import json, os, shlex, subprocess, sys, traceback
plan = json.loads(sys.argv[1])
ns = {"__name__": "__main__"}
bindir = os.path.dirname(sys.executable)
for b in plan:
    if b["lang"] == "python":
        try:
            exec(compile(b["code"], b["name"], "exec"), ns)
        except BaseException:
            print("DOC-BLOCK-FAILED " + b["name"], file=sys.stderr)
            traceback.print_exc()
            sys.exit(1)
    else:
        for cmd in b["commands"]:
            argv = shlex.split(cmd)
            if argv[0] in ("python", "python3"):
                argv[0] = sys.executable
            elif os.path.exists(os.path.join(bindir, argv[0])):
                argv[0] = os.path.join(bindir, argv[0])      # the installed console script
            else:                                            # a source checkout on PYTHONPATH
                argv[0:1] = [sys.executable, "-m", "nanobook_rebalancer"]
            p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
            if p.returncode != 0:
                print("DOC-BLOCK-FAILED %s: `%s` exited %d\n%s\n%s" % (
                    b["name"], cmd, p.returncode, p.stdout[-3000:], p.stderr[-3000:]), file=sys.stderr)
                sys.exit(1)
    print("DOC-BLOCK-OK " + b["name"], flush=True)
'''

ALL = {str(p.relative_to(ROOT)): blocks(p) for p in DOCS}
RUNNABLE = {doc: [b for b in bs if b.skip is None and (b.lang == "python" or shell_commands(b.code))]
            for doc, bs in ALL.items()}
MARKED = [b for bs in ALL.values() for b in bs if b.skip is not None]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("doc", [d for d in ALL if RUNNABLE[d]])
def test_examples_run_as_written(doc, tmp_path):
    plan = [{"name": b.name, "lang": b.lang, "code": b.code,
             "commands": shell_commands(b.code) if b.lang == "sh" else []} for b in RUNNABLE[doc]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANOBOOK_")}
    # No display, and a home of its own so nothing lands in the user's
    # ~/.config or ~/.local/state (the rebalancer's default paths).
    env.update(MPLBACKEND="Agg", HOME=str(tmp_path / "home"), COLUMNS="120")
    proc = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(plan)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=880)
    done = [ln.split(" ", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("DOC-BLOCK-OK ")]
    assert proc.returncode == 0, (
        f"{doc}: ran {len(done)} of {len(plan)} blocks\n{proc.stderr[-6000:]}")
    assert done == [b["name"] for b in plan]


@pytest.mark.parametrize("name", [b.name for b in MARKED] or ["none"])
def test_blocks_marked_not_run(name):
    """Each block the docs mark as not runnable shows up as a skip, by name."""
    if name == "none":
        return
    block = next(b for b in MARKED if b.name == name)
    pytest.skip(f"{name}: {block.skip}")


def test_every_python_block_is_run_or_marked():
    """A python block is either run or carries the visible marker, and no
    document is left out of the run."""
    for doc, bs in ALL.items():
        for b in bs:
            if b.lang == "python":
                assert b.skip is not None or b in RUNNABLE[doc], b.name
    assert "README.md" in ALL and len(ALL) == len(DOCS)


def test_block_parser_sees_fences_and_markers(tmp_path):
    """The parser itself: languages, markers, command lines."""
    md = tmp_path / "x.md"
    md.write_text("intro\n\n```python\nx = 1\n```\n\n*Not run by the doc tests: needs a live venue.*\n\n"
                  "```python\nconnect()\n```\n\n```sh\nmake demo   # not ours\n$ rebalance --dry-run t.json  # plan\n"
                  "python -m nanobook book --events 10\n```\n\n```text\nrebalance run\n```\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        bs = blocks(md)
    finally:
        ROOT = saved
    assert [(b.lang, b.line, b.skip) for b in bs] == [
        ("python", 3, None), ("python", 9, "needs a live venue"), ("sh", 13, None)]
    assert shell_commands(bs[2].code) == ["rebalance --dry-run t.json", "python -m nanobook book --events 10"]
