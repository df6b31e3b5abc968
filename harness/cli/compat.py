"""``codex-matrix compat``: which versions of a lane work with which codex builds, in one grid.

    codex-matrix compat --lane codex-sdk --versions 0.171.0        # which SDK versions work with 0.171.0
    codex-matrix compat --lane codex-sdk --sdk-versions 0.114.0    # which builds work with SDK 0.114.0

Every pair (lane version × build × mode) runs one turn per scenario (default: ``ok``) through the lane's
adapter, in the same containers as ``run`` (one per build, the pairs in parallel inside it), and is held
to the *full* lane contract, so the first failing test of a pair says how it breaks. The grid then
sets each pair's outcome beside what matrix.yaml expects of it (:mod:`harness.report.compat`). Reports
(results.json, junit.xml, report.md/html) go to ``--out`` like a run's.

Exit status: 0 when every pair did what matrix.yaml expects of it, 1 otherwise, 130 interrupted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.cli.invocation import Invocation
from harness.cli.run import run_cells
from harness.errors import UserError
from harness.lanes.catalog import KIND_MODES, LaneNameError, parse_lane
from harness.matrix import Selection, select
from harness.matrix.expand import expectation
from harness.matrix.select import split_values
from harness.releases import expand_versions_arg
from harness.report.compat import pair_of, render

#: SDK versions compared when ``--sdk-versions`` is not given: one per stretch of its history, both sides
#: of the base-URL change (0.114.0 → 0.116.0), the newest measured (docs/sdk-compat.md).
DEFAULT_SDK_VERSIONS = ("0.46.0", "0.63.0", "0.80.0", "0.99.0", "0.110.0", "0.114.0", "0.116.0", "0.120.0",
                        "0.142.0", "0.163.0")
#: The one credential and policy a compat pair runs with (the SDK's documented ``apiKey``; no policy).
CREDENTIAL, POLICY = "codex-api-key", "persistent"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compat", help="grid of lane versions × codex builds: which pairs work, and how the others fail")
    p.add_argument("--lane", required=True, choices=[k for k in KIND_MODES if k != "python"],
                   help="the lane kind, e.g. codex-sdk")
    p.add_argument("--sdk-versions", "--lane-versions", dest="lane_versions", metavar="V,…",
                   help=f"lane versions (default: {','.join(DEFAULT_SDK_VERSIONS)})")
    p.add_argument("--versions", help="codex builds (default: matrix.yaml's); latest, latest-N and OLD..NEW work "
                                      "as in `run`")
    p.add_argument("--modes", default=None, help="lane modes (default: all, e.g. documented,provider)")
    p.add_argument("--scenarios", default="ok", help="scenarios each pair runs (default: ok; any of ok, tool, "
                                                     "unauthorized, server-error)")
    p.add_argument("--matrix", type=Path, default=None, help="matrix file (default: as `run`)")
    p.add_argument("--out", type=Path, default=Path("out-compat"), help="report directory (default: out-compat/)")
    p.add_argument("-j", "--jobs", type=int, default=None, help="containers at once (default: as `run`)")
    p.add_argument("--workers", type=int, default=None, help="lane runs computing at once in a container")
    p.add_argument("--cache-dir", type=Path, default=None, help="codex build cache (default: user cache dir)")
    p.set_defaults(func=run, keep="never", isolation="version", k_expr=None)


def run(args: argparse.Namespace) -> int:
    if (args.jobs is not None and args.jobs < 1) or (args.workers is not None and args.workers < 1):
        raise UserError("--jobs and --workers take a whole number of at least 1")
    invocation = Invocation(args)
    config = invocation.config
    versions = split_values("--sdk-versions", args.lane_versions) or list(DEFAULT_SDK_VERSIONS)
    modes = split_values("--modes", args.modes) or list(KIND_MODES[args.lane])
    for mode in modes:
        if mode not in KIND_MODES[args.lane]:
            raise UserError(f"--modes: {args.lane} has no mode {mode!r} (modes: {', '.join(KIND_MODES[args.lane])})")
    try:
        lanes = [parse_lane(f"{args.lane}@{v}:{m}").full for v in versions for m in modes]
    except LaneNameError as exc:
        raise UserError(f"--sdk-versions: {exc}") from None
    # judged against the full contract (lane rules dropped), so each pair's first failing test shows
    judged = config.model_copy(update={"expectations": [r for r in config.expectations if not r.when.lanes]})
    selection = Selection(versions=expand_versions_arg(args.versions, cache_dir=args.cache_dir),
                          lanes=",".join(lanes), credentials=CREDENTIAL, policies=POLICY, scenarios=args.scenarios)
    cells = select(judged, selection)
    started = time.monotonic()
    results, stopped = run_cells(invocation, cells, details=False)
    pairs = [pair_of(r, expectation(config, r.cell.version, r.cell.credential, r.cell.policy, r.cell.sandbox,
                                    r.cell.lane)[0], scenario=r.cell.scenarios[0]) for r in results.cells]
    print(render(pairs, args.lane))
    print(f"\n{len(pairs)} pairs ({len(versions)} {args.lane} versions × {len({p.build for p in pairs})} builds × "
          f"{len(modes)} modes) in {time.monotonic() - started:.0f} s; "
          f"{sum(p.as_expected for p in pairs)} as matrix.yaml expects")
    if results.interrupted or stopped:
        return 130
    return 0 if all(p.as_expected for p in pairs) else 1
