"""Fuzz the readers of files from elsewhere (issue 27): shards, repro bundles, bisect.jsonl, atlas.jsonl.

``python tests/faults/data_fuzz.py --examples N --report out.json`` builds real-shaped files with the
project's own writers (a shard of three cells over two builds from :mod:`tests.unit.outdirs`, a bundle
from :class:`harness.repro.Bundle`, a bisect log from :class:`harness.bisect.log.BisectLog`, an atlas log
from :class:`harness.atlas.record.AtlasLog`), then feeds the real commands (``merge``, ``ci annotate``,
``repro --bundle``, ``atlas --timeline-only``; in-process through the CLI's dispatch) and the bisect
log's reader with

* N mutants, a quarter of each kind, drawn from a seeded generator: JSON-level edits (a value anywhere
  replaced by a hostile one, a key deleted or added, a list item duplicated or dropped, the whole
  document nested or replaced) and byte-level edits (flips, insertions, deletions, a line cut short);
* every hand-made hostile case of the issue (host paths as artifacts and scenarios, a path in a
  credential, symlinks planted in a shard's raw files, bundles whose cell is another build, bad
  timeouts and outcomes, naive timestamps, ``1e400``, ANSI statuses, a banana verdict, non-UTF-8
  bytes, atlas records with bad versions or missing keys, ``atlas --out FILE``).

A sentinel tree (``host/``: an ``.ssh/id_rsa`` and a scenario's artifacts) stands for the host's own
files, and mutants point at it. An audit hook records every ``open``/``listdir``/``scandir`` of a path
in it; after each input the output dir is searched for its content and the files outside the input
and the output are compared with a snapshot. The JSON report counts inputs per kind, exit codes,
tracebacks (exit 3 or an escaping exception), sentinel reads, leaks and stray writes, and error lines
that are not one line under 300 characters; ``test_data_fuzz.py`` asserts on it.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run by path: `tests` comes from this checkout, `harness` from PYTHONPATH
    sys.path.append(str(ROOT))

from harness.atlas.record import AtlasLog, new_record  # noqa: E402
from harness.bisect.judge import RunCounts, StepOutcome  # noqa: E402
from harness.bisect.log import BisectLog  # noqa: E402
from harness.cli import main as cli_main  # noqa: E402
from harness.errors import UserError  # noqa: E402
from harness.repro import BuildIdentity, Bundle, collect_scenarios, outcome_json  # noqa: E402
from harness.suite.protocol import CellSpec  # noqa: E402
from tests.unit.outdirs import make_out  # noqa: E402

SENTINEL = "SENTINEL-5eed-host-only"
ERROR_LIMIT = 300
CELLS = [CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool")),
         CellSpec("0.117.0", "none", "persistent", ("ok",), expect="auth-required", expect_reason="no key"),
         CellSpec("0.169.0", "codex-api-key", "ephemeral", ("ok", "hang"))]
PARAMS = {"good": "0.100.0", "bad": "0.110.0", "runs": 1, "terms": ["good", "bad"]}
KINDS = ("shard", "bundle", "bisect", "atlas")

PARSER = cli_main.build_parser()


def run_cli(argv: list[str]) -> int:
    return int(cli_main._dispatch(PARSER.parse_args(argv)))


# -- the sentinel tree and the audit hook ---------------------------------------------------------------


class Watch:
    """Every open/listdir/scandir of a path inside the sentinel tree, while armed."""

    def __init__(self, host: Path) -> None:
        self.prefixes = (str(host), str(host.resolve()))
        self.armed = False
        self.hits: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.armed or event not in ("open", "os.listdir", "os.scandir") or not args:
            return
        target = args[0]
        if isinstance(target, bytes):
            target = target.decode("utf-8", "replace")
        if isinstance(target, str | os.PathLike):
            text = os.fspath(target)
            if isinstance(text, str) and text.startswith(self.prefixes):
                self.hits.append(f"{event} {text}")


def make_host(work: Path) -> Path:
    host = work / "host"
    for rel in (".ssh/id_rsa", "ok/stderr.txt", "ok/transcript.jsonl", "ok/journal.json", "ok/summary.json",
                "ok/config.toml", "ok/env.json", "ok/facts.json", "cells/x/ok/stderr.txt", "results.json"):
        (host / rel).parent.mkdir(parents=True, exist_ok=True)
        (host / rel).write_text(f'"{SENTINEL}"\n')
    return host


def snapshot(work: Path, skip: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every file and dir below ``work`` outside ``skip``, with size and mtime."""
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(work):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in dirnames + filenames:
            st = (here / name).lstat()
            out[str(here / name)] = (st.st_size, st.st_mtime_ns if name in filenames else 0)
    return out


def leaks(root: Path) -> list[str]:
    if not root.exists():
        return []
    found = []
    for dirpath, _dirs, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink() and SENTINEL.encode() in path.read_bytes():
                found.append(str(path))
    return found


# -- the real-shaped base files ------------------------------------------------------------------------------


def base_files(work: Path) -> dict[str, Any]:
    """One of each, written by the project's own writers."""
    shard = work / "base" / "shard"
    make_out(shard, CELLS, {CELLS[2].id: "fail"})
    cell = CELLS[0]
    job = shard / "raw" / cell.version / "cells" / cell.id
    from harness.results import CellResult

    results = json.loads((shard / "results.json").read_text())
    outcome = CellResult.from_json(results["cells"][0])
    from harness.binaries import CachedBuild

    build = CachedBuild(version="0.117.0", root=Path("/c/tree"), binary=Path("/c/tree/codex/codex"),
                        binary_relpath="codex/codex", sha256="ab" * 32, tree_sha256="cd" * 32,
                        integrity="sha512-" + "A" * 86 + "==", version_line="codex-cli 0.117.0",
                        npm_version="0.117.0-linux-x64", tarball="https://registry.npmjs.org/x.tgz")
    bundle = Bundle(cell=cell, build=BuildIdentity.of(build), image={"tag": "img:1", "id": "sha256:1"},
                    timeouts={"codex_s": 45.0, "hang_s": 6.0, "container_s": 1800.0},
                    outcome=outcome_json(outcome), scenarios=collect_scenarios(job, cell.scenarios),
                    argv=["codex-matrix", "repro", cell.id])
    bundle_path = bundle.write(work / "base" / f"{cell.id}.repro.json")
    log = BisectLog(work / "base" / "bisect.jsonl", PARAMS)
    log.start({"started": "2026-01-01T00:00:00+00:00", "releases": ["0.100.0", "0.105.0", "0.110.0"]})
    log.append(StepOutcome("0.100.0", "old", RunCounts(met=1), cells={CELLS[0].id: "pass"},
                           container_runs=1).to_json())
    log.append(StepOutcome("0.110.0", "new", RunCounts(missed=1), "a: b", cells={CELLS[0].id: "fail"},
                           duration_s=3.5, container_runs=1).to_json())
    atlas = AtlasLog(work / "base" / "atlas" / "atlas.jsonl")
    for version, status in (("0.117.0", "ok"), ("0.118.0", "error")):
        atlas.append(_atlas_record(version, status))
    return {
        "shard": json.loads((shard / "results.json").read_text()),
        "bundle": json.loads(bundle_path.read_text()),
        "bisect": [json.loads(line) for line in log.path.read_text().splitlines()],
        "atlas": [json.loads(line) for line in atlas.path.read_text().splitlines()],
        "shard_dir": shard,
    }


def _atlas_record(version: str, status: str) -> dict[str, Any]:
    record = new_record(version, version)
    record["status"] = status
    if status != "ok":
        record["error"] = {"phase": "image", "message": "boom"}
        return record
    record["fingerprint"] = {"protocol": "thread-events", "flags": ["--json"], "event_types": ["turn.completed"],
                             "usage_keys": ["input_tokens"], "tools_declared": ["shell"],
                             "session_files": {"persistent": 1}, "stderr": ["x"], "model_catalog": ["gpt-5.5"]}
    record["tree_files"], record["binary_relpath"] = ["codex/codex"], "codex/codex"
    record["cells"] = {"codex-api-key/persistent": {"status": "pass", "expected": "native", "lane_s": 1.5}}
    record["tests"] = {"codex-api-key/persistent": {"test_event_grammar[ok]": "pass"}}
    record["timings"].update(download_s=1.0, runs_s=10.0, total_s=11.0)
    return record


# -- mutations ---------------------------------------------------------------------------------------------


def hostile_values(host: Path) -> list[Any]:
    return [
        None, True, False, 0, -1, 10**30, 1.5, -0.0, 1e308, "", "x" * 70_000, "\x1b[31mred\x1b[0m", "\x00", "\n",
        "../../../host", "../" * 8 + "etc", str(host), str(host / "ok"), str(host / ".ssh"), "/dev/zero",
        "0.117.0\n", " 0.117.0", "0.117.0-linux-x64", "9999.0.0", "0.128.0-alpha.1", "2026-01-01T00:00:00",
        "2026-01-01T00:00:00+00:00", "banana", "pass", "fail", "xpass", "ok", "tool-race", "codex-api-key", "none",
        "persistent", "native", "step", "start", "result", "<script>alert(1)</script>", "```\n<b>x</b>",
        "sk-live-abcdef0123456789", [], {}, [None], {"": None}, [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],
        {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {"m": {"n": 1}}}}}}}}}}}}}},
        "[/]", "[bold]x[/bold]", "test_x[/]", "INF", "NAN", "SENTINEL-REF",
    ]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def mutate_json(doc: Any, rng: random.Random, values: list[Any]) -> Any:
    """1-4 structural edits of a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        paths = list(_paths(doc))
        path = rng.choice(paths)
        op = rng.random()
        if not path:
            if op < 0.05:
                doc = copy.deepcopy(rng.choice(values))
            elif op < 0.1:
                doc = [doc]
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        if op < 0.6:
            parent[key] = copy.deepcopy(rng.choice(values))
        elif op < 0.75 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.85 and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op < 0.9 and isinstance(parent, list):
            del parent[key]
        elif isinstance(parent, dict):
            key = rng.choice(["extra", "../x", "\x1b", "id", "artifacts", "schema", "kind"])
            parent[key] = copy.deepcopy(rng.choice(values))
    return doc


def dump(doc: Any, host: Path) -> bytes:
    """JSON text, with the markers for what json.dumps cannot write (1e400, NaN) and the sentinel path."""
    text = json.dumps(doc)
    text = text.replace('"INF"', "1e400").replace('"NAN"', "NaN").replace('"SENTINEL-REF"', json.dumps(str(host)))
    return text.encode()


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(max(1, len(buf)))
        op = rng.random()
        if op < 0.4 and buf:
            buf[at] ^= 1 << rng.randrange(8)
        elif op < 0.6:
            buf.insert(at, rng.choice([0, 0x0A, 0x22, 0x5C, 0x7B, 0x5D, 0x80, 0xC3, 0xFF]))
        elif op < 0.8 and buf:
            del buf[at]
        else:
            del buf[at:]
    return bytes(buf)


# -- running one input -------------------------------------------------------------------------------------


class Tally:
    def __init__(self, work: Path, host: Path, watch: Watch) -> None:
        self.work, self.host, self.watch = work, host, watch
        self.inputs: dict[str, int] = {k: 0 for k in KINDS}
        self.hand_made = 0
        self.codes: dict[str, int] = {}
        self.tracebacks: list[str] = []
        self.bad_errors: list[str] = []
        self.sentinel_reads: list[str] = []
        self.leaks: list[str] = []
        self.stray_writes: list[str] = []
        self.longest = ""

    def run(self, kind: str, label: str, inp: Path, out: Path, call: Callable[[], int], *, hand: bool) -> None:
        self.inputs[kind] += 1
        self.hand_made += hand
        before = snapshot(self.work, (inp, out))
        err = io.StringIO()
        self.watch.hits.clear()
        self.watch.armed = True
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = call()
        except UserError as exc:  # an in-process reader's one-line error (the CLI prints these)
            code = exc.exit_code
            err.write(f"codex-matrix: error: {exc}\n")
        except BaseException:
            self.watch.armed = False
            self.tracebacks.append(f"{label}: {traceback.format_exc()[-800:]}")
            return
        finally:
            self.watch.armed = False
        self.codes[str(code)] = self.codes.get(str(code), 0) + 1
        text = err.getvalue()
        if code == 3 or "Traceback" in text:
            saved = re.search(r"traceback saved to (\S+\.txt)", text)
            detail = Path(saved[1]).read_text()[-700:] if saved and Path(saved[1]).is_file() else ""
            self.tracebacks.append(f"{label}: {text[:300]}{detail}")
        errors = [line for line in text.splitlines() if line.startswith("codex-matrix: error")]
        if code == 2 and len(errors) != 1:
            self.bad_errors.append(f"{label}: {len(errors)} error lines: {text[:300]}")
        for line in errors:
            if len(line) > len(self.longest):
                self.longest = line
            if len(line) >= ERROR_LIMIT:
                self.bad_errors.append(f"{label}: {len(line)} characters: {line[:300]}")
        self.sentinel_reads += [f"{label}: {hit}" for hit in self.watch.hits[:3]]
        self.leaks += [f"{label}: {p}" for p in leaks(out)[:3]]
        after = snapshot(self.work, (inp, out))
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        self.stray_writes += [f"{label}: {p}" for p in changed[:3]]


class Fuzz:
    def __init__(self, work: Path, tally: Tally, base: dict[str, Any]) -> None:
        self.work, self.tally, self.base = work, tally, base
        self.host = tally.host
        self.inp = work / "in"
        self.out = work / "out"
        self.cache = work / "cache"

    def _fresh(self) -> None:
        for path in (self.inp, self.out):
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.exists():
                shutil.rmtree(path)

    # each kind: write the input, run the command, tally

    def shard(self, label: str, data: bytes, *, hand: bool = False,
              tweak: Callable[[Path], None] | None = None) -> None:
        self._fresh()
        shutil.copytree(self.base["shard_dir"], self.inp, symlinks=True)
        (self.inp / "results.json").write_bytes(data)
        if tweak is not None:
            tweak(self.inp)
        if self.tally.inputs["shard"] % 4 == 3:  # every fourth through the read-only consumer
            argv = ["ci", "annotate", str(self.inp)]
        else:
            argv = ["merge", str(self.inp), "--out", str(self.out)]
        self.tally.run("shard", label, self.inp, self.out, lambda: run_cli(argv), hand=hand)

    def bundle(self, label: str, data: bytes, *, hand: bool = False) -> None:
        self._fresh()
        self.inp.mkdir()
        path = self.inp / "cell.repro.json"
        path.write_bytes(data)
        argv = ["repro", "--bundle", str(path), "-o", str(self.out / "again.json"), "--cache-dir", str(self.cache)]
        self.tally.run("bundle", label, self.inp, self.out, lambda: run_cli(argv), hand=hand)

    def bisect(self, label: str, data: bytes, *, hand: bool = False) -> None:
        self._fresh()
        self.inp.mkdir()
        path = self.inp / "bisect.jsonl"
        path.write_bytes(data)

        def read() -> int:
            BisectLog(path, PARAMS).resumable()
            return 0

        self.tally.run("bisect", label, self.inp, self.out, read, hand=hand)

    def atlas(self, label: str, data: bytes, *, hand: bool = False, out: Path | None = None) -> None:
        self._fresh()
        self.inp.mkdir()
        (self.inp / "atlas.jsonl").write_bytes(data)
        argv = ["atlas", "--timeline-only", "--out", str(out or self.inp)]
        self.tally.run("atlas", label, self.inp, self.out, lambda: run_cli(argv), hand=hand)


def lines(records: list[Any], host: Path) -> bytes:
    return b"".join(dump(r, host) + b"\n" for r in records)


def mutants(fuzz: Fuzz, examples: int, seed: int) -> None:
    rng = random.Random(seed)
    host = fuzz.host
    values = hostile_values(host)
    base = fuzz.base
    per_kind = max(1, examples // len(KINDS))
    for i in range(per_kind):
        byte_level = i % 5 == 4
        doc = base["shard"] if byte_level else mutate_json(base["shard"], rng, values)
        data = dump(doc, host)
        fuzz.shard(f"shard mutant {i}", mutate_bytes(data, rng) if byte_level else data)
    for i in range(per_kind):
        byte_level = i % 5 == 4
        doc = base["bundle"] if byte_level else mutate_json(base["bundle"], rng, values)
        data = dump(doc, host)
        fuzz.bundle(f"bundle mutant {i}", mutate_bytes(data, rng) if byte_level else data)
    for kind in ("bisect", "atlas"):
        records = base[kind]
        for i in range(per_kind):
            if i % 5 == 4:
                data = mutate_bytes(lines(records, host), rng)
            else:
                changed = list(records)
                at = rng.randrange(len(changed))
                changed[at] = mutate_json(changed[at], rng, values)
                data = lines(changed, host)
            getattr(fuzz, kind)(f"{kind} mutant {i}", data)


# -- hand-made hostile cases -------------------------------------------------------------------------------


def _edit(doc: Any, change: Callable[[Any], None]) -> Any:
    doc = copy.deepcopy(doc)
    change(doc)
    return doc


def hand_made(fuzz: Fuzz) -> None:
    host, base = fuzz.host, fuzz.base
    shard, bundle = base["shard"], base["bundle"]
    first = CELLS[0]

    def cell0(change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
        return lambda d: change(d["cells"][0])

    def drop_raw(inp: Path) -> None:
        shutil.rmtree(inp / "raw")

    def link_job(inp: Path) -> None:
        job = inp / "raw" / first.version
        shutil.rmtree(job)
        job.symlink_to(host)

    def link_raw(inp: Path) -> None:
        shutil.rmtree(inp / "raw")
        (inp / "raw").symlink_to(host)

    def link_file(inp: Path) -> None:
        target = inp / "raw" / first.version / "cells" / first.id / "ok" / "stderr.txt"
        target.unlink()
        target.symlink_to(host / "ok" / "stderr.txt")

    def link_scenario(inp: Path) -> None:
        target = inp / "raw" / first.version / "cells" / first.id / "ok"
        shutil.rmtree(target)
        target.symlink_to(host / "ok")

    shard_cases: list[tuple[str, Any, Callable[[Path], None] | None]] = [
        ("artifacts is a host folder", _edit(shard, cell0(lambda c: c.update(artifacts=str(host)))), drop_raw),
        ("artifacts below a host raw", _edit(shard, cell0(lambda c: c.update(
            artifacts=str(host / "raw" / "x" / "cells" / first.id)))), drop_raw),
        ("credential with a path", _edit(shard, cell0(lambda c: c.update(
            credential="x/../../../ESCAPED", id="codex0.117.0-x/../../../ESCAPED-persistent"))), None),
        ("id with a path", _edit(shard, cell0(lambda c: c.update(id="../../../ESCAPED"))), None),
        ("absolute scenario", _edit(shard, cell0(lambda c: c["tests"][0].update(scenario=str(host / "ok")))), None),
        ("relative scenario", _edit(shard, cell0(lambda c: c["tests"][0].update(scenario="../../../../host/ok"))),
         None),
        ("lane_s keyed by a path", _edit(shard, cell0(lambda c: c["lane_s"].update({str(host): 1.0}))), None),
        ("job dir is a symlink to the host", shard, link_job),
        ("raw is a symlink to the host", shard, link_raw),
        ("an artifact is a symlink to a host file", shard, link_file),
        ("a scenario dir is a symlink to the host", shard, link_scenario),
        ("null cell", _edit(shard, lambda d: d["cells"].__setitem__(0, None)), None),
        ("naive timestamp", _edit(shard, lambda d: d.update(started="2026-01-01T00:00:00")), None),
        ("1e400 duration", _edit(shard, cell0(lambda c: c.update(duration_s="INF"))), None),
        ("NaN duration", _edit(shard, cell0(lambda c: c.update(duration_s="NAN"))), None),
        ("string lane time", _edit(shard, cell0(lambda c: c["lane_s"].update(ok="1.5"))), None),
        ("ANSI status", _edit(shard, cell0(lambda c: c.update(status="\x1b[32mpass\x1b[0m"))), None),
        ("unknown status", _edit(shard, cell0(lambda c: c.update(status="green"))), None),
        ("version with a newline", _edit(shard, cell0(lambda c: c.update(version="0.117.0\n"))), None),
        ("fingerprint flags not a list", _edit(shard, cell0(lambda c: c["fingerprint"].update(event_types=5))),
         None),
        ("builds keyed by a path", _edit(shard, lambda d: d["builds"].update({"../x": {}})), None),
        ("duplicate cell that differs", _edit(shard, lambda d: d["cells"].append(
            dict(d["cells"][0], message="other"))), None),
        ("no cells", _edit(shard, lambda d: d.update(cells=[])), None),
        ("huge message", _edit(shard, cell0(lambda c: c.update(message="m" * 3_000_000))), None),
        ("bad regex in xfail", _edit(shard, cell0(lambda c: c.update(xfail={"ok": {"reason": "r", "match": "("}}))),
         None),
    ]
    for label, doc, tweak in shard_cases:
        fuzz.shard(label, dump(doc, host), hand=True, tweak=tweak)
    for label, data in [("deep nesting", b"[" * 100_000 + b"]" * 100_000), ("not UTF-8", b'{"schema": 1, "\xff": 1}'),
                        ("UTF-16", '{"schema": 1}'.encode("utf-16")), ("empty", b""), ("NaN token", b"NaN"),
                        ("a list", b"[]"), ("schema 2", b'{"schema": 2, "cells": []}')]:
        fuzz.shard(label, data, hand=True)

    def results_is_a_link(inp: Path) -> None:
        (inp / "results.json").unlink()
        (inp / "results.json").symlink_to("/dev/zero")

    fuzz.shard("results.json is /dev/zero", b"", hand=True, tweak=results_is_a_link)

    def cell(change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
        return lambda b: change(b)

    other = "codex0.130.0-codex-api-key-persistent"
    bundle_cases: list[tuple[str, Any]] = [
        ("absolute scenario", _edit(bundle, lambda b: b["cell"].update(scenarios=[str(host / "ok")]))),
        ("relative scenario", _edit(bundle, lambda b: b["cell"].update(scenarios=["../../host/ok"]))),
        ("scenario key a path", _edit(bundle, lambda b: b["scenarios"].update({str(host): {}}))),
        ("cell is another build", _edit(bundle, lambda b: (b["cell"].update(version="0.130.0", id=other),
                                                           b["outcome"].update(version="0.130.0", id=other)))),
        ("outcome of another cell", _edit(bundle, lambda b: b["outcome"].update(
            credential="none", id="codex0.117.0-none-persistent"))),
        ("build version with a newline", _edit(bundle, lambda b: b["build"].update(version="0.117.0\n"))),
        ("npm version of another build", _edit(bundle, lambda b: b["build"].update(npm_version="0.130.0"))),
        ("bad integrity", _edit(bundle, lambda b: b["build"].update(integrity="../../etc/passwd"))),
        ("negative timeout", _edit(bundle, lambda b: b["timeouts"].update(container_s=-5))),
        ("infinite timeout", _edit(bundle, lambda b: b["timeouts"].update(codex_s="INF"))),
        ("string timeout", _edit(bundle, lambda b: b["timeouts"].update(hang_s="6"))),
        ("unknown timeout", _edit(bundle, lambda b: b["timeouts"].update(forever_s=1))),
        ("null outcome", _edit(bundle, lambda b: b.update(outcome=None))),
        ("outcome status", _edit(bundle, lambda b: b["outcome"].update(status="green"))),
        ("k_expr with a newline", _edit(bundle, lambda b: b.update(k_expr="x\nimport os"))),
        ("schema 2", _edit(bundle, lambda b: b.update(schema=2))),
        ("not a bundle", _edit(bundle, lambda b: b.update(kind="other"))),
    ]
    for label, doc in bundle_cases:
        fuzz.bundle(label, dump(doc, host), hand=True)
    fuzz.bundle("not UTF-8", b'{"kind": "codex-matrix-repro", "\xff": 1}', hand=True)

    records = base["bisect"]
    step = records[1]
    bisect_cases: list[tuple[str, bytes]] = [
        ("banana verdict", lines([*records, dict(step, verdict="banana")], host)),
        ("non-UTF-8 line", lines(records, host) + b'{"kind": "step", "version": "0.1\xff"}\n'),
        ("torn tail", lines(records, host) + b'{"kind": "step", "vers'),
        ("NaN duration", lines([*records, dict(step, duration_s="NAN")], host)),
        ("a second start", lines([*records, records[0]], host)),
        ("no start", lines(records[1:], host)),
        ("status with ANSI", lines([*records, dict(step, cells={"x": "\x1b[31mfail"})], host)),
        ("unknown kind", lines([*records, {"kind": "shell", "cmd": "rm -rf /"}], host)),
        ("deep nesting", lines(records, host) + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
        ("version with a newline", lines([*records, dict(step, version="0.117.0\n")], host)),
    ]
    for label, data in bisect_cases:
        fuzz.bisect(label, data, hand=True)

    atlas = base["atlas"]
    ok = atlas[0]
    atlas_cases: list[tuple[str, bytes]] = [
        ("bad version", lines([dict(ok, version="banana")], host)),
        ("version with a newline", lines([dict(ok, version="0.117.0\n")], host)),
        ("missing timings", lines([{k: v for k, v in ok.items() if k != "timings"}], host)),
        ("missing cells", lines([{k: v for k, v in ok.items() if k != "cells"}], host)),
        ("flags not a list", lines([dict(ok, fingerprint=dict(ok["fingerprint"], flags=5))], host)),
        ("outcome not an outcome", lines([dict(ok, tests={"a/b": {"t": "\x1b[31mpass"}})], host)),
        ("torn tail", lines(atlas, host) + b'{"schema": 1, "vers'),
        ("non-UTF-8", lines(atlas, host) + b'{"version": "\xff"}\n'),
        ("1e400 timing", lines([dict(ok, timings=dict(ok["timings"], total_s="INF"))], host)),
    ]
    for label, data in atlas_cases:
        fuzz.atlas(label, data, hand=True)
    a_file = fuzz.work / "atlas-out-file"
    a_file.write_text("a file\n")
    fuzz.atlas("--out is a file", lines(atlas, host), hand=True, out=a_file)


def main_() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="data-fuzz-") as tmp:
        work = Path(tmp)
        os.environ.update({"DOCKER_HOST": "unix:///nonexistent/docker.sock", "DOCKER_CONTEXT": "",
                           "NPM_CONFIG_REGISTRY": "http://127.0.0.1:9/", "XDG_CACHE_HOME": str(work / "cache")})
        host = make_host(work)
        base = base_files(work)
        tally = Tally(work, host, Watch(host))
        fuzz = Fuzz(work, tally, base)
        hand_made(fuzz)
        mutants(fuzz, args.examples, args.seed)
    report = {
        "inputs": tally.inputs, "total": sum(tally.inputs.values()), "hand_made": tally.hand_made,
        "mutants": sum(tally.inputs.values()) - tally.hand_made, "codes": tally.codes,
        "traceback_count": len(tally.tracebacks), "tracebacks": tally.tracebacks[:10],
        "bad_errors": tally.bad_errors[:10], "bad_error_count": len(tally.bad_errors),
        "sentinel_reads": tally.sentinel_reads[:10], "leaks": tally.leaks[:10],
        "stray_writes": tally.stray_writes[:10], "longest_error_line": tally.longest,
        "seconds": round(time.monotonic() - started, 1),
    }
    args.report.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main_())
