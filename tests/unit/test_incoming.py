"""The readers of files from elsewhere (harness.incoming), the path joins (harness.safepath) and the
append-only logs (harness.jsonlines), without Docker or a subprocess."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UserError
from harness.incoming.fields import read_lines
from harness.incoming.results import RawFinder, read_results
from harness.jsonlines import append_line
from harness.safepath import is_safe_name, join_under
from harness.suite.protocol import CellSpec
from tests.unit.outdirs import make_out

A = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool"))
C = CellSpec("0.169.0", "codex-api-key", "ephemeral", ("ok",))


# -- safepath ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ok", "tool-race", "codex0.117.0-none-persistent", "0.128.0-alpha.1"])
def test_plain_names_join(tmp_path: Path, name: str) -> None:
    assert is_safe_name(name) and join_under(tmp_path, name) == tmp_path / name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "/etc", ".hidden", "a\nb", "a\\b", "x" * 201, 5])
def test_other_names_never_join(tmp_path: Path, name: object) -> None:
    assert not is_safe_name(name)
    assert join_under(tmp_path, name) is None  # type: ignore[arg-type]


def test_a_symlink_out_of_the_root_does_not_join(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "root" / "inside").symlink_to(tmp_path / "root")
    assert join_under(tmp_path / "root", "link") is None
    assert join_under(tmp_path / "root", "inside") == tmp_path / "root" / "inside"


# -- results.json ------------------------------------------------------------------------------------------


def test_a_shard_reads_back_with_its_raw_files_found_beside_it(tmp_path: Path) -> None:
    run = make_out(tmp_path / "s1", [A, C])
    back = read_results(tmp_path / "s1" / "results.json")
    assert [c.cell for c in back.cells] == [c.cell for c in run.cells]
    assert [c.status for c in back.cells] == [c.status for c in run.cells]
    assert back.started.tzinfo is not None and set(back.builds) == {"0.117.0", "0.169.0"}
    for cell in back.cells:
        assert cell.artifacts == str(tmp_path / "s1" / "raw" / cell.cell.version / "cells" / cell.cell.id)


def test_the_artifacts_field_is_a_hint_to_the_job_dir_never_a_path(tmp_path: Path) -> None:
    make_out(tmp_path / "s1", [A])
    path = tmp_path / "s1" / "results.json"
    data = json.loads(path.read_text())
    data["cells"][0]["artifacts"] = "/somewhere/else/raw/0.117.0/cells/" + A.id  # a CI download moved it
    path.write_text(json.dumps(data))
    [cell] = read_results(path).cells
    assert cell.artifacts == str(tmp_path / "s1" / "raw" / "0.117.0" / "cells" / A.id)
    data["cells"][0]["artifacts"] = str(tmp_path)  # a folder of its own choosing: not looked at
    path.write_text(json.dumps(data))
    assert read_results(path).cells[0].artifacts == str(tmp_path / "s1" / "raw" / "0.117.0" / "cells" / A.id)


def test_raw_finder_skips_symlinked_and_odd_job_dirs(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "raw").mkdir(parents=True)
    (tmp_path / "host" / "cells" / A.id).mkdir(parents=True)
    (root / "raw" / "linked").symlink_to(tmp_path / "host")
    (root / "raw" / ".hidden" / "cells" / A.id).mkdir(parents=True)
    assert RawFinder(root).find(A.id, str(root / "raw" / "linked" / "cells" / A.id)) is None
    (root / "raw" / "job" / "cells" / A.id).mkdir(parents=True)
    assert RawFinder(root).find(A.id, None) == root / "raw" / "job" / "cells" / A.id


@pytest.mark.parametrize(("text", "fragment"), [
    ('{"schema": 1, "started": NaN, "cells": []}', "is not valid JSON"),
    ('{"schema": 1, "started": "2026-01-01T00:00:00Z", "cells": [], "duration_s": 1e999}', "duration_s: "),
    ('{"schema": 1, "started": "2026-01-01T00:00:00Z", "cells": [], "interrupted": "yes"}', "interrupted: "),
    ('{"schema": 1, "started": "2026-01-01T00:00:00Z", "cells": [], "builds": {"v1": {}}}', "builds.v1.[key]: "),
    ("[" * 50_000 + "]" * 50_000, "is not valid JSON"),
])
def test_bad_values_are_one_line_naming_the_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        read_results(path)
    assert fragment in str(err.value) and "\n" not in str(err.value) and len(str(err.value)) < 280


def test_a_special_file_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="is not a regular file"):
        read_results(fifo)


# -- append-only logs --------------------------------------------------------------------------------------


def test_append_repairs_a_torn_tail_and_read_ignores_only_that(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    append_line(log, '{"a": 1}')
    with log.open("a") as fh:
        fh.write('{"b": ')
    assert read_lines(log, fix="fix") == [(1, {"a": 1})]  # the torn tail is not a record
    append_line(log, '{"c": 3}')
    assert read_lines(log, fix="fix") == [(1, {"a": 1}), (2, {"c": 3})]
    with pytest.raises(ValueError, match="one line"):
        append_line(log, '{"d":\n4}')


@pytest.mark.parametrize(("raw", "fragment"), [
    (b'{"a": 1}\n{"b": \n{"c": 3}\n', "line 2 is not a JSON record"),
    (b'{"a": 1}\n{"b": "\xff"}\n', "line 2 is not UTF-8"),
    (b'{"a": NaN}\n', "line 1 is not a JSON record"),
])
def test_a_damaged_line_before_the_tail_is_one_line(tmp_path: Path, raw: bytes, fragment: str) -> None:
    log = tmp_path / "x.jsonl"
    log.write_bytes(raw)
    with pytest.raises(UserError, match=fragment):
        read_lines(log, fix="fix")
    assert read_lines(tmp_path / "absent.jsonl", fix="fix") == []


def test_fingerprint_keys_this_code_does_not_know_are_kept_checked(tmp_path: Path) -> None:
    """A newer build or harness observes a new fact: merge must carry it, as plain bounded JSON."""
    make_out(tmp_path / "s1", [A])
    path = tmp_path / "s1" / "results.json"
    data = json.loads(path.read_text())
    data["cells"][0]["fingerprint"]["a_new_fact"] = {"tool": ["x", 1.5]}
    data["builds"]["0.117.0"]["a_new_fact"] = [True]
    path.write_text(json.dumps(data))
    back = read_results(path)
    assert back.cells[0].fingerprint["a_new_fact"] == {"tool": ["x", 1.5]}
    assert back.builds["0.117.0"]["a_new_fact"] == [True]
    data["builds"]["0.117.0"]["a_new_fact"] = [[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"builds\.0\.117\.0: .*nests deeper"):
        read_results(path)


def test_a_bundles_created_time_must_be_a_timestamp_with_a_timezone(tmp_path: Path) -> None:
    from harness.incoming.bundle import read_bundle
    from tests.faults.test_hostile_data import bundle_file

    path = bundle_file(tmp_path)
    assert read_bundle(path).created.endswith("+00:00")
    for bad in ("2026-01-01T00:00:00", "yesterday"):
        data = json.loads(path.read_text())
        data["created"] = bad
        path.write_text(json.dumps(data))
        with pytest.raises(UserError, match="created: "):
            read_bundle(path)


def test_a_bundle_of_a_local_build_reads_and_hashes_are_whole(tmp_path: Path) -> None:
    """A local build (issue 26) has no npm version or integrity; a release must have both. pydantic's
    ``pattern`` searches, so hashes are checked with fullmatch: one inside other text is refused."""
    from harness.incoming.bundle import read_bundle
    from tests.faults.test_hostile_data import bundle_file

    local = "0.999.0-local.bf685caf"
    cell_id = f"codex{local}-codex-api-key-persistent"

    def to_local(b: dict[str, Any]) -> None:
        for key in ("cell", "outcome"):
            b[key].update(version=local, id=cell_id)
        b["build"].update(version=local, npm_version="", integrity="", tarball="/src/codex")
        for test in b["outcome"]["tests"]:
            test["cell"] = cell_id

    assert read_bundle(bundle_file(tmp_path, to_local)).build.version == local
    for change in ({"binary_sha256": "zz" + "ab" * 32 + "zz"}, {"integrity": "x sha512-" + "A" * 86 + "=="},
                   {"integrity": ""}, {"npm_version": ""}):
        path = bundle_file(tmp_path, lambda b, c=change: b["build"].update(c))
        with pytest.raises(UserError, match="build"):
            read_bundle(path)
