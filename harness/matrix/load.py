"""Reading matrix.yaml: a guarded YAML load, then schema validation, with every problem as one line.

The file is the single source of truth for what runs, so a mistake must point at its line and say how
to fix it, and a hostile or broken file must never cost more than a clear error: the read is capped
in size, bytes must be UTF-8, duplicate keys are refused (PyYAML would silently keep the last one),
nesting depth and alias expansion are bounded (no "billion laughs"), and no message quotes more than a
short excerpt of a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import UserError
from harness.matrix.schema import MatrixConfig

MAX_BYTES = 1 << 20  # the default file is ~3 KB
MAX_DEPTH = 32
MAX_EXPANDED_NODES = 50_000
EXCERPT = 80


def clip(text: object, limit: int = EXCERPT) -> str:
    """One short line of ``text``: newlines flattened, long values cut with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and over-deep nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {clip(key)!r} (YAML would keep only the last one)", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes the document has once aliases are expanded, computed without expanding them."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle counts once
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    total = 1
    for child in children:
        total += _expanded_size(child, memo)
        if total > MAX_EXPANDED_NODES:
            break
    memo[key] = total
    return total


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}; pass --matrix PATH to a matrix.yaml") from exc
    if len(data) > MAX_BYTES:
        raise UserError(f"{path}: larger than {MAX_BYTES // 1024} KiB, which no matrix needs: is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}): save the file as UTF-8") from None


def parse_yaml(text: str, path: Path) -> tuple[Any, yaml.Node | None]:
    """The document's data and its node tree (for line numbers); UserError for anything unsafe or broken."""
    try:
        loader = _GuardedLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None and _expanded_size(root, {}) > MAX_EXPANDED_NODES:
                raise UserError(f"{path}: expands to more than {MAX_EXPANDED_NODES} values through aliases: "
                                "remove the anchors (&) and aliases (*)")
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or exc
        raise UserError(f"{where}: not valid YAML ({clip(problem)}): fix the syntax") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. `!!int 0.117.0`, huge ints
        raise UserError(f"{path}: a value cannot be read ({clip(exc)}): write plain values as in the README") from None
    return data, root


def yaml_line(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Line (1-based) of the YAML node at a pydantic error location, best effort."""
    node = root
    line = None if node is None else node.start_mark.line + 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _local_builds(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """``versions:`` items that name builds from elsewhere (a path, relative to matrix.yaml; a .tgz;
    ``@scope/fork@1.2.3``) imported into the build cache and replaced by their build ids."""
    from harness.binaries import local

    versions = data.get("versions")
    if not isinstance(versions, list) or not any(isinstance(v, str) and local.is_spec(v) for v in versions):
        return data
    out = []
    for item in versions:
        if isinstance(item, str) and local.is_spec(item):
            spec = item if local.is_npm_spec(item) else str(path.parent / Path(item).expanduser())
            try:
                item = local.import_build(spec).version
            except UserError as exc:
                raise UserError(f"{path}: versions: {clip(str(exc).removeprefix('--versions '), 240)}") from None
        out.append(item)
    return {**data, "versions": out}


def load_matrix(path: Path | None = None) -> MatrixConfig:
    """Read and validate matrix.yaml; any problem becomes one UserError naming file, line and fix."""
    from harness.assets import default_matrix_path

    path = path or default_matrix_path()
    data, root = parse_yaml(_read_text(path), path)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with at least `versions:`; see the README")
    data = _local_builds(data, path)
    try:
        return MatrixConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        line = yaml_line(root, loc)
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {clip(loc[-1])!r}: remove it or check the spelling against the README"
        where = f"{path}:{line}" if line else str(path)
        raise UserError(f"{where}: {clip(dotted)}: {clip(msg, 160)}") from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise UserError(f"{path}: a value cannot be read ({clip(exc)}): write plain values as in the README") from None
