"""Command-line narrowing of the matrix: ``--versions/--credentials/--policies/--scenarios/--cells``."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UserError
from harness.lanes.catalog import LaneNameError, expand_lanes, lane_of_slug
from harness.matrix.expand import expand
from harness.matrix.load import clip
from harness.matrix.schema import AXIS_VALUES, MatrixConfig
from harness.npmversion import parse_version
from harness.suite.protocol import LANE_SEPARATOR, CellSpec


@dataclass(frozen=True)
class Selection:
    """Comma-separated values per flag, as typed; None = the flag was not given (everything)."""

    versions: str | None = None
    credentials: str | None = None
    policies: str | None = None
    scenarios: str | None = None
    cells: str | None = None
    sandboxes: str | None = None  # exact cell ids, as results.json / report.md / junit.xml print them
    lanes: str | None = None  # lane names: python, codex-sdk@0.163.0 (both modes), codex-sdk@0.163.0:provider


def split_values(flag: str, value: str | None) -> list[str] | None:
    """The items of a comma-separated flag; an empty one is an error, never "everything".

    An unset CI variable (``--versions "$VERSIONS"``) must not start the whole matrix.
    """
    if value is None:
        return None
    items = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not items:
        raise UserError(f"{flag} is empty: name at least one value, or leave the flag out to select everything")
    return items


def select(config: MatrixConfig, selection: Selection) -> list[CellSpec]:
    """Cells chosen by the command line: each flag names the values of its axis, matrix.yaml's or not.

    matrix.yaml's lists are the default selection, not the limit of what can run: any npm version, and
    any registered credential setup, policy, sandbox mode or scenario (``--scenarios tool-race``, which
    the default leaves out) is added on the fly, because running one specific value is a core use.
    Unknown values are errors because they can only be typos. ``include``/``exclude`` and the
    expectation and xfail rules still apply to what is added, so ``list`` and ``run`` expand alike.
    """
    versions = split_values("--versions", selection.versions)
    credentials = split_values("--credentials", selection.credentials)
    policies = split_values("--policies", selection.policies)
    sandboxes = split_values("--sandboxes", selection.sandboxes)
    scenarios = split_values("--scenarios", selection.scenarios)
    ids = split_values("--cells", selection.cells)
    lanes = split_values("--lanes", selection.lanes)
    if lanes is None and ids is not None and any(LANE_SEPARATOR in i for i in ids):  # the lanes the ids name
        lanes = list(dict.fromkeys([*config.lanes, *(_lane_of_id(i) for i in ids if LANE_SEPARATOR in i)]))
    if lanes is not None:
        try:
            names = [lane.full for text in lanes for lane in expand_lanes(text)]
        except LaneNameError as exc:
            raise UserError(f"--lanes: {clip(exc, 200)}") from None
        config = config.model_copy(update={"lanes": list(dict.fromkeys(names))})
    for flag, axis, values in (
        ("--credentials", "credentials", credentials),
        ("--policies", "policies", policies),
        ("--sandboxes", "sandboxes", sandboxes),
        ("--scenarios", "scenarios", scenarios),
    ):
        for value in values or ():
            if value not in AXIS_VALUES[axis]:
                raise UserError(f"{flag}: unknown value {clip(value)!r}: use one of {', '.join(AXIS_VALUES[axis])}")
    if ids is not None:
        versions = list(dict.fromkeys([*(versions or []), *(_version_of_id(i) for i in ids)]))
    if versions is not None:
        try:
            versions = [parse_version(v.removeprefix("codex")) for v in versions]
        except ValueError as exc:
            raise UserError(f"--versions: {clip(exc, 160)}") from None
        extra = [v for v in versions if v not in config.versions]
        if extra:
            config = config.model_copy(update={"versions": [*config.versions, *extra]})
    # The axes are widened (a value matrix.yaml leaves out may be asked for) and the cells filtered after
    # expansion, not the axes replaced before it: an `include` naming a credential (or policy, sandbox)
    # must still match its combinations, else selecting another credential makes it "match nothing".
    narrowing = {"credential": credentials, "policy": policies, "sandbox": sandboxes}
    for axis, values in (("credentials", credentials), ("policies", policies), ("sandboxes", sandboxes)):
        if values is not None:
            current = getattr(config, axis)
            config = config.model_copy(update={axis: [*values, *(v for v in current if v not in values)]})
    if sandboxes is None and ids is not None:  # an id may name a sandbox mode the default selection leaves out
        named = [s for s in AXIS_VALUES["sandboxes"] if any(i.endswith(f"-{s}") for i in ids)]
        config = config.model_copy(update={"sandboxes": list(dict.fromkeys([*config.sandboxes, *named]))})
    if scenarios is not None:
        # an include's own scenario list replaces the default one for its cells: a scenario asked for on
        # the command line joins it too, else those cells would lose exactly what was asked for
        config = config.model_copy(update={
            "scenarios": _in_matrix_order(scenarios, config.scenarios),
            "include": [inc if inc.scenarios is None else inc.model_copy(
                update={"scenarios": [*inc.scenarios, *(s for s in scenarios if s not in inc.scenarios)]})
                for inc in config.include],
        })
    cells = expand(config)
    for attr, values in narrowing.items():
        if values is not None:
            cells = [c for c in cells if getattr(c, attr) in values]
    if versions is not None:
        cells = [c for c in cells if c.version in versions]
    # an include entry adds its cell whatever the axes list: the flags must still narrow it
    for field, values in (("credential", credentials), ("policy", policies), ("sandbox", sandboxes)):
        if values is not None:
            cells = [c for c in cells if getattr(c, field) in values]
    if ids is not None:
        by_id = {c.id: c for c in cells}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise UserError(f"--cells: no cell {clip(unknown[0])!r} in this matrix: copy an id from results.json "
                            "or `codex-matrix list`")
        cells = [c for c in cells if c.id in ids]
    if scenarios is not None:
        cells = [c.narrowed(scenarios) for c in cells]
        cells = [c for c in cells if c.scenarios]
    if not cells:
        raise UserError("the selection matches no cell: widen --versions/--credentials/--policies/--scenarios")
    return cells


def _in_matrix_order(chosen: list[str], listed: list[str]) -> list[str]:
    """``chosen`` with matrix.yaml's values first, in its order (a cell runs them as it always did), then
    the values it does not list, as typed."""
    return [*(v for v in listed if v in chosen), *(v for v in dict.fromkeys(chosen) if v not in listed)]


def _version_of_id(cell_id: str) -> str:
    """``codex0.117.0-codex-api-key-ephemeral`` → ``0.117.0`` (``codex0.128.0-alpha.1-none-persistent`` →
    ``0.128.0-alpha.1``): the id ends in a known credential and policy, the version is what precedes them.
    """
    if cell_id.startswith("codex"):
        body = cell_id.partition(LANE_SEPARATOR)[0].removeprefix("codex")
        for sandbox in AXIS_VALUES["sandboxes"]:
            body = body.removesuffix(f"-{sandbox}")
        for credential in AXIS_VALUES["credentials"]:
            for policy in AXIS_VALUES["policies"]:
                head = body.removesuffix(f"-{credential}-{policy}")
                if head and head != body:
                    return head
        head = body.split("-", 1)[0]  # not a known setup: the version is still named, the id then matches nothing
        if head and head[0].isdigit():
            return head
    raise UserError(f"--cells: {clip(cell_id)!r} is not a cell id: "
                    "they look like codex0.117.0-codex-api-key-ephemeral")


def _lane_of_id(cell_id: str) -> str:
    """``…-persistent+codex-sdk-0.163.0-provider`` → ``codex-sdk@0.163.0:provider``."""
    lane = lane_of_slug(cell_id.partition(LANE_SEPARATOR)[2])
    if lane is None:
        raise UserError(f"--cells: {clip(cell_id)!r} names no lane after {LANE_SEPARATOR!r}: lane parts look "
                        "like +codex-sdk-0.163.0-documented (for a script lane, also pass --lanes script:PATH)")
    return lane.full


def versions_of(cells: list[CellSpec]) -> list[str]:
    """Distinct versions in cell order."""
    return list(dict.fromkeys(c.version for c in cells))
