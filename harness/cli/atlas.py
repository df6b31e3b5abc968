"""``codex-matrix atlas``: every stable codex release, oldest first, as a timeline of seam changes.

Streams the releases through fetch → install (mounted into the base image, or an image of its own) →
a cell set → one line of ``atlas.jsonl`` →
cleanup (see :mod:`harness.atlas.runner`), then writes ``atlas.json``, ``atlas.md`` and ``atlas.html``
from the whole file. ``--resume`` skips releases the file already holds; without it the selected
releases are run again and their new lines replace the old ones. Exit 0 once every selected release
is recorded (a release that could not be installed or run is recorded too: it is data, not a failure),
130 when interrupted (the file keeps every finished release; ``--resume`` continues).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.atlas.cells import CELL_SETS
from harness.cli.cellruns import interruptible
from harness.cli.invocation import Invocation
from harness.errors import UserError

DEFAULT_OUT = Path("atlas")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "atlas", help="run every stable codex release and chart where each seam fact appeared and went away",
        description="Fingerprint and contract-check every stable @openai/codex release (oldest first) and write "
                    "the timeline: atlas.jsonl (one line per release), atlas.json, atlas.md, atlas.html.")
    p.add_argument("--since", metavar="V", help="first release to include (e.g. 0.97.0)")
    p.add_argument("--until", metavar="V", help="last release to include (e.g. 0.101.0)")
    p.add_argument("-j", "--jobs", type=int, default=3,
                   help="releases in flight at most: running, or fetched and waiting for a runner (default: 3)")
    p.add_argument("--parallel", type=int, default=2,
                   help="releases whose containers run at once (default: 2)")
    p.add_argument("--workers", type=int, default=None,
                   help="lane runs at once inside each container (default: the machine's compute budget, "
                        "shared by the releases running at once, as `run` shares it)")
    p.add_argument("--install", choices=("mount", "image"), default="mount",
                   help="mount: each build's tree into the one base image (default; no image per release); "
                        "image: an image per build, as `run` uses (kept when it already exists either way)")
    p.add_argument("--disk-budget", type=int, default=1100, metavar="MB",
                   help="builds in flight may hold this much disk (default: 1100 MB; one release always may)")
    p.add_argument("--keep-raw", action="store_true",
                   help="leave every release's raw output as a directory (default: packed to raw/V.tar.gz "
                        "once all its cells met)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"atlas directory (default: {DEFAULT_OUT}/)")
    p.add_argument("--cells", choices=CELL_SETS, default=CELL_SETS[0],
                   help="cells per release: default (matrix.yaml's whole default cell set, as `run --versions V` "
                        "expands it; the default) or compact (8 cells, 5 scenarios: a quick pass)")
    p.add_argument("--resume", action="store_true",
                   help="skip releases already recorded in atlas.jsonl with the same --cells")
    p.add_argument("--keep-builds", action="store_true",
                   help="keep each release's image and cached tree (default: removed once recorded)")
    p.add_argument("--cache-dir", type=Path, default=None, help="codex build cache (default: user cache dir)")
    p.add_argument("--matrix", type=Path, default=None,
                   help="matrix.yaml whose expectations and known regressions apply (default: ./matrix.yaml or the "
                        "packaged one)")
    p.add_argument("--timeline-only", action="store_true",
                   help="run nothing: rebuild atlas.json/.md/.html from the existing atlas.jsonl")
    p.set_defaults(func=run)


@interruptible
def run(args: argparse.Namespace) -> int:
    """SIGTERM is Ctrl-C here as in every command (:func:`harness.interrupts.command_signals`): the first
    stops the atlas (the current release dropped, containers removed), later ones cannot cut that short."""
    from harness.atlas import write_timeline
    from harness.atlas.record import LOG_NAME, AtlasLog
    from harness.atlas.releases import parse_bound

    for flag, value in (("-j/--jobs", args.jobs), ("--parallel", args.parallel), ("--workers", args.workers),
                        ("--disk-budget", args.disk_budget)):
        if value is not None and value < 1:
            raise UserError(f"{flag} {value}: give a whole number of at least 1")
    since, until = parse_bound("--since", args.since), parse_bound("--until", args.until)
    if since is not None and until is not None and since > until:
        raise UserError(f"--since {args.since} is after --until {args.until}: swap them")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a directory: pass the atlas directory (it is created if absent)")
    invocation = Invocation(args, console=Console(stderr=True, highlight=False))
    console = invocation.console
    log = AtlasLog(out / LOG_NAME)
    config = invocation.config
    if args.timeline_only:
        records = log.read()
        if not records:
            raise UserError(f"{log.path} holds no release: run `codex-matrix atlas` first (or pass its --out)")
        _print_paths(console, write_timeline(out, records, config=config))
        return _rules_verdict(console, out)
    log.read()  # a damaged atlas.jsonl is one line now, before any download, image or container
    outcome = _stream(invocation, since, until)
    paths = write_timeline(out, log.read(), config=config)
    done = f"{len(outcome.recorded)} releases recorded in {outcome.duration_s:.0f} s"
    if outcome.skipped:
        done += f", {len(outcome.skipped)} already recorded (skipped)"
    console.print(done + (" — interrupted: rerun with --resume to continue" if outcome.interrupted else ""))
    _print_paths(console, paths)
    return 130 if outcome.interrupted else _rules_verdict(console, out)


def _rules_verdict(console: Console, out: Path) -> int:
    """1 when a known regression's claimed range disagrees with the one the atlas observed (atlas.json)."""
    import json

    from harness.atlas.rules import disagreements

    rows = json.loads((out / "atlas.json").read_text(encoding="utf-8")).get("rules") or []
    wrong = disagreements(rows)
    for row in wrong:
        console.print(f"atlas: xfail rule {row['rule']} ({row['versions']}) claims {row['claimed']} but the atlas "
                      f"observed {row['observed']}" + (f", fixed in {', '.join(row['fixed_in'])}" if row['fixed_in']
                                                        else "") + ": narrow or widen the rule in matrix.yaml")
    return 1 if wrong else 0


def _stream(invocation: Invocation, since: Any, until: Any) -> Any:
    from harness.atlas.releases import stable_releases
    from harness.atlas.reporting import new_atlas_reporter
    from harness.atlas.runner import Atlas, AtlasOptions
    from harness.binaries import registry as npm
    from harness.images import ensure_base_image
    from harness.progress import RichProgress

    args, console = invocation.args, invocation.console
    registry = npm.registry_url()
    doc = npm.packument(registry)
    releases = stable_releases(doc, registry, since=since, until=until)
    if not releases:
        raise UserError(f"no stable codex release between {args.since or 'the first'} and {args.until or 'the last'}"
                        ": widen --since/--until")
    client = invocation.client
    base_tag = ensure_base_image(client, progress=RichProgress(console))
    options = AtlasOptions(out_dir=args.out, jobs=args.jobs, keep_builds=args.keep_builds, cache_dir=args.cache_dir,
                           cells=args.cells, workers=args.workers, parallel=args.parallel, install=args.install,
                           disk_budget_mb=args.disk_budget, keep_raw=args.keep_raw)
    console.print(f"atlas: {len(releases)} stable releases ({releases[0].version} … {releases[-1].version}) → "
                  f"{args.out / 'atlas.jsonl'}, {args.parallel} running at once, builds "
                  f"{'mounted into the base image' if args.install == 'mount' else 'in images of their own'}")
    reporter = new_atlas_reporter(lambda s: console.print(s, soft_wrap=True))
    atlas = Atlas(client, invocation.config, base_tag, options, reporter, packument=doc)
    return atlas.run(releases, resume=args.resume)


def _print_paths(console: Console, paths: list[Path]) -> None:
    for path in paths:
        console.print(f"  wrote {path}")
