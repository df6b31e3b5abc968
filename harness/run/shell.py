"""``repro --shell``: a container of the cell's image, and a shell in it with the cell's world set up.

The container is a run container's twin (no network, the package and the contract suite mounted
read-only, labelled so ``prune`` and leak checks find it); inside it
:mod:`harness.suite.shell` starts the fake API and the shell. The shell is the docker CLI's
``exec -i`` (plus ``-t`` only when both ends are terminals, so ``echo exit | codex-matrix repro …
--shell`` works too). The container is removed when the shell ends, on Ctrl-C as well.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from typing import Any

from harness import assets, labels
from harness.errors import UserError
from harness.suite import protocol
from harness.suite.protocol import CellSpec

SHELL_KIND = "shell"


def exec_argv(container: str, cell: CellSpec, scenario: str, *, tty: bool) -> list[str]:
    """The ``docker exec`` that starts the cell's shell inside ``container``."""
    return ["docker", "exec", "-i", *(["-t"] if tty else []),
            "-e", f"PYTHONPATH={protocol.CONTAINER_PACKAGE_ROOT}", "-e", "PYTHONDONTWRITEBYTECODE=1",
            "-w", "/tmp", container, "python3", "-m", "harness.suite.shell", json.dumps(cell.to_json()), scenario]


def open_shell(client: Any, image: str, cell: CellSpec, scenario: str) -> int:
    """Start the container, run the shell until it exits, remove the container; the shell's exit status."""
    name = f"cnm-shell-{cell.id}-{uuid.uuid4().hex[:8]}"
    volumes = {
        str(assets.PACKAGE_DIR): {"bind": f"{protocol.CONTAINER_PACKAGE_ROOT}/harness", "mode": "ro"},
        str(assets.contract_dir()): {"bind": protocol.CONTAINER_SUITE_DIR, "mode": "ro"},
    }
    container = client.containers.run(
        image, ["sleep", "infinity"], name=name, detach=True, network_mode="none", init=True, working_dir="/tmp",
        hostname=protocol.CONTAINER_HOSTNAME, extra_hosts=protocol.CONTAINER_HOSTS,
        tmpfs={protocol.CONTAINER_WORKROOT: protocol.CONTAINER_WORKROOT_TMPFS}, volumes=volumes,
        labels={labels.MANAGED: "true", labels.KIND: SHELL_KIND, labels.VERSION: cell.version},
    )
    try:
        tty = sys.stdin.isatty() and sys.stdout.isatty()
        try:
            return subprocess.call(exec_argv(name, cell, scenario, tty=tty))
        except FileNotFoundError:
            raise UserError("the docker command-line client is not installed: install docker.io (or docker-ce-cli) "
                            "for --shell") from None
    finally:
        with contextlib.suppress(Exception):  # already gone is fine
            container.remove(force=True)
