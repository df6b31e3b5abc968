"""Fuzz ``codex-matrix list --matrix FILE`` with hostile matrix.yaml files; run in a child under a memory limit.

``python tests/faults/matrix_fuzz.py --examples N --report out.json`` feeds the real CLI entry point
(``harness.cli.main``'s dispatch, in-process, output captured) with

* N mutations of the default matrix.yaml drawn by hypothesis: byte flips, insertions and deletions;
  line deletions, duplications, swaps and re-indentations; hostile snippets spliced in; scalar values
  replaced by hostile ones (``.inf``, ``1e12``, ``!!int 0.117.0``, 5,000-digit integers, ``true``…);
* every hand-made hostile document of :func:`hostile_documents` (non-UTF-8 bytes, deep nesting,
  billion laughs, recursive aliases, duplicate keys, huge numbers and strings, odd tags) and a few
  hostile paths (``/dev/zero``, a directory, a FIFO-free special file);

and writes a JSON report: inputs tried, exit codes seen, tracebacks (exit 3 or an escaping exception),
the longest error line, and the child's peak RSS. The parent test (``test_matrix_fuzz.py``) sets the
memory limit with ``resource.setrlimit`` before this starts and asserts on the report.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.assets import packaged_matrix_path
from harness.cli import main as cli_main

DEFAULT = packaged_matrix_path().read_bytes()
LINES = DEFAULT.split(b"\n")

HOSTILE_VALUES = [
    b".inf", b"-.inf", b".nan", b"1e12", b"1e400", b"-1", b"0", b"true", b"~", b"null", b"[]", b"{}",
    b"!!int 0.117.0", b"!!float x", b"!!binary AAAA", b"!!timestamp 2001-12-14", b"!!python/object:os.system x",
    b"9" * 5000, b"0x" + b"f" * 3000, b"'" + b"a" * 20000 + b"'", b"&a [*a]", b"*undefined", b"<<: *x",
    b"!!set {a, b}", b"\"\\x00\\uffff\"", b"0.117.0.1", b"v0.117.0", b"0.128.0-alpha.1", b"\xff\xfe",
    b"\xc3\x28", b"\x00", b"\t", b"'", b"\"", b"{", b"[", b"- - - -", b"? complex key", b"!<tag:x> 1",
]

SNIPPETS = [
    b"timeouts: {container_s: .inf}", b"timeouts: {codex_s: 1e12, hang_s: true}", b"versions: []",
    b"versions: [0.117.0, 0.117.0]", b"versions: !!int 0.117.0", b"include: [{version: 0.999.0}]",
    b"exclude: [{credential: nobody}]", b"expectations: [{when: {versions: '<<0.44'}, expect: x, reason: y}]",
    b"xfail: [{when: {}, reason: r, tests: [not_a_test]}]", b"xfail: [{when: {}, reason: r, match: '('}]",
    b"a: &a [*a, *a, *a]", b"---\nversions: [0.1.0]", b"%YAML 1.1\n---", b"!!python/name:os.system", b"? [a]\n: b",
    b"scenarios: [" + b"ok, " * 2000 + b"ok]", b"versions: [" + b"[" * 200 + b"]" * 200 + b"]",
]


def hostile_documents() -> Iterator[tuple[str, bytes]]:
    """Hand-made documents, each aimed at one way a YAML reader can be made to fail badly."""
    yield "empty", b""
    yield "only a comment", b"# nothing\n"
    yield "a scalar", b"0.117.0\n"
    yield "a list", b"- versions\n"
    yield "latin-1", "versions: [0.117.0]\n# Gr\u00fc\u00dfe\n".encode("latin-1")
    yield "utf-16 with BOM", "versions: [0.117.0]\n".encode("utf-16")
    yield "lone continuation byte", b"versions: [0.117.0]\nx: \x80\n"
    yield "NUL byte", b"versions: [0.117.0]\x00\n"
    yield "overlong utf-8", b"versions: [\xc0\xae]\n"
    yield "utf-8 BOM", b"\xef\xbb\xbfversions: [0.117.0]\n"
    for depth in (33, 500, 5000, 50_000):
        yield f"flow nesting {depth}", b"versions: " + b"[" * depth + b"]" * depth + b"\n"
        yield f"mapping nesting {depth}", b"x: " + b"{a: " * depth + b"1" + b"}" * depth + b"\n"
    block = b"".join(b"  " * i + b"k:\n" for i in range(600)) + b"  " * 600 + b"v\n"
    yield "block nesting 600", block
    laughs = [b"a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10).encode()
        laughs.append(f"a{i}: &a{i} [".encode() + refs + b"]")
    yield "billion laughs", b"\n".join(laughs) + b"\nversions: *a9\n"
    yield "recursive alias", b"versions: &v [0.117.0, *v]\n"
    yield "merge key bomb", b"b: &b {x: 1}\n" + b"".join(f"m{i}: &m{i} {{<<: *b, y: {i}}}\n".encode()
                                                          for i in range(200)) + b"versions: [0.117.0]\n"
    yield "duplicate top key", b"versions: [0.117.0]\nversions: [0.20.0]\n"
    yield "duplicate nested key", b"versions: [0.117.0]\ntimeouts: {codex_s: 1, codex_s: 2}\n"
    yield "duplicate rule key", DEFAULT.replace(b"  - when:", b"  - when: {}\n    when:", 1)
    yield "one when line deleted", DEFAULT.replace(b"  - when:", b"  -", 1)
    yield "huge int", b"versions: [0.117.0]\ntimeouts: {container_s: " + b"9" * 5000 + b"}\n"
    yield "huge float", b"versions: [0.117.0]\ntimeouts: {container_s: 1e400}\n"
    yield "inf timeout", b"versions: [0.117.0]\ntimeouts: {container_s: .inf}\n"
    yield "nan timeout", b"versions: [0.117.0]\ntimeouts: {container_s: .nan}\n"
    yield "1e12 timeout", b"versions: [0.117.0]\ntimeouts: {container_s: 1e12}\n"
    yield "bool timeout", b"versions: [0.117.0]\ntimeouts: {container_s: true}\n"
    yield "!!int version", b"versions: [!!int 0.117.0]\n"
    yield "!!float nonsense", b"versions: [0.117.0]\ntimeouts: {codex_s: !!float abc}\n"
    yield "python tag", b"versions: !!python/object/apply:os.system [echo pwned]\n"
    yield "binary tag", b"versions: !!binary AAAA\n"
    yield "timestamp version", b"versions: [2001-12-14]\n"
    yield "huge string", b"versions: ['" + b"x" * 900_000 + b"']\n"
    yield "huge key", b"'" + b"k" * 500_000 + b"': 1\nversions: [0.117.0]\n"
    yield "long line error", b"versions: [0.117.0]\ncredentials: [" + b"n" * 100_000 + b"]\n"
    yield "many documents", b"---\nversions: [0.117.0]\n" * 500
    yield "too large", b"# " + b"x" * (2 << 20) + b"\n"
    yield "include without coordinates", b"versions: [0.117.0]\ninclude: [{scenarios: [ok]}]\n"
    yield "include huge", (b"versions: [0.117.0]\ninclude: [{version: 0.118.0, scenarios: ["
                           + b"ok, " * 5000 + b"ok]}]\n")
    yield "tab indentation", b"versions:\n\t- 0.117.0\n"
    yield "control characters", b"versions: [0.117.0]\nx: \"\x1b[31m\x07\"\n"
    yield "anchor on everything", b"versions: &v [&a 0.117.0, &b 0.20.0]\ncredentials: *v\n"


HOSTILE_PATHS = ["/dev/zero", "/dev/null", "/", "/proc/self/mem", "/nonexistent/matrix.yaml"]


PARSER = cli_main.build_parser()


def run_cli(argv: list[str]) -> int:
    """``main(argv)`` without rebuilding the parser each time (a quarter of the cost of one input)."""
    dispatch = getattr(cli_main, "_dispatch", None)
    if dispatch is None:  # an older checkout (CODEX_MATRIX_FAULTS_TARGET): the plain entry point
        return int(cli_main.main(argv))
    return int(dispatch(PARSER.parse_args(argv)))


class Tally:
    def __init__(self) -> None:
        self.inputs = 0
        self.codes: dict[str, int] = {}
        self.tracebacks: list[str] = []
        self.longest = ""
        self.multiline: list[str] = []

    def run(self, label: str, path: str) -> None:
        self.inputs += 1
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run_cli(["list", "--matrix", path, "--format", "ids"])
        except BaseException:  # anything escaping main is a traceback the user would see
            self.tracebacks.append(f"{label}: {traceback.format_exc()[-600:]}")
            return
        self.codes[str(code)] = self.codes.get(str(code), 0) + 1
        text = err.getvalue()
        if code == 3 or "Traceback" in text:
            self.tracebacks.append(f"{label}: {text[:600]}")
        lines = [line for line in text.splitlines() if line]
        if code == 2 and len(lines) != 1:
            self.multiline.append(f"{label}: {text[:300]}")
        for line in lines:
            if len(line) > len(self.longest):
                self.longest = line


def fuzz(examples: int, tally: Tally, workdir: Path) -> None:
    target = workdir / "matrix.yaml"

    def check(label: str, data: bytes) -> None:
        target.write_bytes(data)
        tally.run(label, str(target))

    byte_edit = st.tuples(st.integers(0, len(DEFAULT) - 1), st.sampled_from(["flip", "insert", "delete"]),
                          st.integers(0, 255))
    line_edit = st.tuples(st.integers(0, len(LINES) - 1), st.sampled_from(["delete", "dup", "swap", "indent",
                                                                           "dedent", "snippet", "value"]),
                          st.integers(0, 10_000))

    @settings(max_examples=examples, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(byte_edit.map(lambda e: ("b", *e)), line_edit.map(lambda e: ("l", *e))),
                    min_size=1, max_size=6))
    def mutated(edits: list[tuple[str, int, str, int]]) -> None:
        data = bytearray(DEFAULT)
        lines = list(LINES)
        for kind, at, op, arg in edits:
            if kind == "l":
                at %= len(lines)
                if op == "delete" and len(lines) > 1:
                    del lines[at]
                elif op == "dup":
                    lines.insert(at, lines[at])
                elif op == "swap":
                    other = arg % len(lines)
                    lines[at], lines[other] = lines[other], lines[at]
                elif op == "indent":
                    lines[at] = b"  " + lines[at]
                elif op == "dedent":
                    lines[at] = lines[at].lstrip()
                elif op == "snippet":
                    lines.insert(at, SNIPPETS[arg % len(SNIPPETS)])
                elif op == "value" and b":" in lines[at]:
                    key = lines[at].split(b":", 1)[0]
                    lines[at] = key + b": " + HOSTILE_VALUES[arg % len(HOSTILE_VALUES)]
                data = bytearray(b"\n".join(lines))
            else:
                at %= max(1, len(data))
                if op == "flip" and data:
                    data[at] ^= 1 << (arg % 8)
                elif op == "insert":
                    data.insert(at, arg)
                elif op == "delete" and data:
                    del data[at]
                lines = bytes(data).split(b"\n")
        check(f"mutation {edits!r}"[:200], bytes(data))

    mutated()
    for label, data in hostile_documents():
        check(label, data)
    for path in HOSTILE_PATHS:
        tally.run(path, path)


def main_() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="matrix-fuzz-") as work:
        fuzz(args.examples, tally, Path(work))
    report = {
        "inputs": tally.inputs, "codes": tally.codes, "tracebacks": tally.tracebacks[:20],
        "traceback_count": len(tally.tracebacks), "longest_error_line": tally.longest,
        "multiline": tally.multiline[:20], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rlimit_as_mb": resource.getrlimit(resource.RLIMIT_AS)[0] / (1 << 20),
    }
    args.report.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main_())
