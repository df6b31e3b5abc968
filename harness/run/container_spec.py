"""The shape of a run container: its lifetime, labels, mounts, isolation, and the suite command exec'd into it.

One container per build (or per cell with ``isolation="cell"``), no network, the package and the
contract suite mounted read-only and a per-container staging directory mounted read-write. The
container's own command is a finite sleep (the suite's budget plus a margin, see :func:`lifetime_s`)
and Docker removes it when that ends (``auto_remove``), so even a harness killed with SIGKILL leaves
nothing running past its deadline; a container kept on purpose lives :data:`KEPT_LIFETIME_S` longer.
Every container is labelled with its owner (host, pid, start time) so any later command removes the
containers of a run that is gone (:mod:`harness.orphans`).

"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from harness import labels
from harness.images import seccomp
from harness.owner import Owner
from harness.run.job import JobRun
from harness.run.plan import CODEX_LINK, JobPlan, MountedBuild, RunOptions
from harness.run.transfer import lane_mounts, mounts
from harness.suite import protocol

# Ryuk (testcontainers' reaper) is an image from a registry, and none is reachable here; containers are
# removed by this package and, failing that, found by label (`codex-matrix prune`).
testcontainers_config.ryuk_disabled = True

#: A container ends by itself this long after its suite's budget: past the watchdog, nothing needs it.
LIFETIME_MARGIN_S = 60
#: How much longer a container kept for inspection lives (long, but never forever).
KEPT_LIFETIME_S = 24 * 3600
#: Inside a container: its presence makes the lifetime command sleep on (written when it is kept).
KEEP_MARK = "/tmp/.codex-matrix-kept"


def lifetime_s(options: RunOptions) -> int:
    """How long a run container lives unless kept: the suite's budget, then the watchdog, then a margin."""
    return math.ceil(options.timeouts.container_s) + LIFETIME_MARGIN_S


def lifetime_command(options: RunOptions) -> list[str]:
    """The container's own process: sleep until the deadline, longer only if it was kept meanwhile."""
    script = 'sleep "$1"; if [ -e "$3" ]; then exec sleep "$2"; fi'
    return ["sh", "-c", script, "codex-matrix-lifetime", str(lifetime_s(options)), str(KEPT_LIFETIME_S), KEEP_MARK]


#: Before the suite of a mounted build: link its binary where an image of its own would have (as root,
#: in the container's own layer; ``-n`` so a second exec into a kept container replaces the link).
LINK_SCRIPT = 'ln -sfn "$1" "$2" && shift 2 && exec "$@"'


def suite_command(options: RunOptions, mounted: MountedBuild | None = None) -> list[str]:
    """The contract suite, as exec'd into the container, under the container budget; for a mounted
    build, behind the one shell step that puts ``codex`` on the suite's PATH."""
    budget = math.ceil(options.timeouts.container_s)  # `timeout 0` would mean no timeout at all
    argv = [
        "timeout", "-k", "15", str(budget),
        "python3", "-m", "pytest", protocol.CONTAINER_SUITE_DIR,
        "-p", "no:cacheprovider", "-q", "-rN", "--color=no", f"--rootdir={protocol.CONTAINER_SUITE_DIR}",
    ]
    if options.k_expr:
        argv += ["-k", options.k_expr]
    if mounted is not None:
        argv = ["sh", "-c", LINK_SCRIPT, "codex-matrix-link", mounted.binary, CODEX_LINK, *argv]
    return argv


def run_labels(job: JobRun, run_id: str, options: RunOptions, owner: Owner | None = None) -> dict[str, str]:
    """What a run container says about itself: project, build, run, owner process and deadline."""
    owner = owner or Owner.current("run")
    deadline = datetime.now(UTC) + timedelta(seconds=lifetime_s(options))
    return {
        labels.MANAGED: "true", labels.KIND: "run", labels.VERSION: job.plan.version, labels.RUN: run_id,
        labels.OWNER_HOST: owner.host, labels.OWNER_PID: str(owner.pid), labels.OWNER_START: owner.start,
        labels.OWNER_INSTANCE: owner.instance, labels.OWNER_STARTED: owner.started,
        labels.DEADLINE: deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def suite_container(plan: JobPlan, name: str, labels_: dict[str, str], options: RunOptions, live: Path, *,
                    copy: bool = False, slots: Path | None = None) -> DockerContainer:
    """The container a job's suite runs in: no network, the package and the suite read-only (and a
    mounted build's tree, and the machine's compute slots: :func:`harness.run.transfer.mounts`), the
    staging dir read-write (or nothing mounted when a remote daemon gets the files copied in), a
    lifetime of its own, and no relaxation but the seccomp profile codex's own sandbox needs
    (:mod:`harness.images.seccomp`), only when a cell runs a sandboxed mode."""
    kwargs: dict[str, Any] = {
        "network": "none", "labels": labels_, "init": True, "working_dir": "/tmp", "auto_remove": True,
        "security_opt": seccomp.security_opt({c.sandbox for c in plan.cells}),
        "hostname": protocol.CONTAINER_HOSTNAME, "extra_hosts": protocol.CONTAINER_HOSTS,
    }
    if not copy:
        kwargs["mounts"] = mounts(plan, live, slots, lane_mounts(plan, options))
    container = DockerContainer(plan.image).with_name(name).with_command(lifetime_command(options))
    # testcontainers hands its tmpfs table to Docker as is: the value is Docker's whole option string
    container.with_tmpfs_mount(protocol.CONTAINER_WORKROOT, protocol.CONTAINER_WORKROOT_TMPFS)
    return container.with_kwargs(**kwargs)
