"""A run container relaxes nothing but seccomp, and only for codex's own sandbox: no network, no
capability added, not privileged; the sandboxed modes get Docker's default profile plus our rules."""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

import pytest

from harness import labels
from harness.images import ensure_images
from harness.matrix import Timeouts
from harness.run.container_spec import suite_container
from harness.run.plan import JobPlan, RunOptions
from harness.suite.protocol import CONTAINER_WORKROOT, CONTAINER_WORKROOT_TMPFS, CellSpec


@pytest.mark.parametrize("sandbox", ["workspace-write", "danger-full-access"])
def test_no_network_and_seccomp_is_the_only_relaxation(docker_client: object, tmp_path: Path, sandbox: str) -> None:
    image = ensure_images(docker_client, ["0.169.0"])["0.169.0"]
    raw = tmp_path / "raw"
    raw.mkdir()
    plan = JobPlan("security", "0.169.0", image, (CellSpec("0.169.0", "none", "persistent", ("ok",), sandbox=sandbox),),
                   raw)
    name = f"cnm-security-{uuid.uuid4().hex[:8]}"
    options = RunOptions(out_dir=tmp_path, timeouts=Timeouts(container_s=60))
    container = suite_container(plan, name, {labels.MANAGED: "true", labels.KIND: "run"}, options, raw)
    container.start()
    try:
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        host = wrapped.attrs["HostConfig"]
        assert host["NetworkMode"] == "none"
        assert not host.get("Privileged") and not host.get("CapAdd")
        opts = host.get("SecurityOpt") or []
        if sandbox == "danger-full-access":
            assert opts == []  # Docker's default profile, untouched
        else:
            assert len(opts) == 1 and opts[0].startswith("seccomp=")
            profile = json.loads(opts[0].removeprefix("seccomp="))
            added = [s for s in profile["syscalls"] if str(s.get("comment", "")).startswith(("codex", "same as"))]
            assert sorted({n for s in added for n in s["names"]}) == ["clone", "mount", "pivot_root", "umount2"]
        # no way out: loopback is the only interface and there is no route (nothing is sent anywhere)
        _, out = wrapped.exec_run(["cat", "/proc/net/dev"])
        interfaces = {line.split(":")[0].strip() for line in out.decode().splitlines()[2:]}
        assert interfaces == {"lo"}, interfaces
        _, out = wrapped.exec_run(["cat", "/proc/net/route"])
        assert out.decode().splitlines()[1:] == [], out
        # the lane runs' work root is the container's own tmpfs, bounded, writable and executable
        assert host["Tmpfs"] == {CONTAINER_WORKROOT: CONTAINER_WORKROOT_TMPFS}
        code, out = wrapped.exec_run(["sh", "-c", f"grep ' {CONTAINER_WORKROOT} ' /proc/mounts"])
        fields = out.decode().split()
        assert code == 0 and fields[2] == "tmpfs" and "noexec" not in fields[3].split(","), out
    finally:
        with contextlib.suppress(Exception):  # auto-removed once stopped
            container.stop()
