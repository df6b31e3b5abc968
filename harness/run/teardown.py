"""After a job's suite: keep its container for inspection (renamed ``…-kept``, its lifetime extended) or
remove it, and know whether it is surely gone.

A container that could not be confirmed gone (a dead daemon) is an orphan: the runner then copies its
staging dir instead of moving it, so an orphan can never write into ``raw/``.
"""

from __future__ import annotations

import time
from typing import Any

from harness import labels
from harness.run.container_spec import KEEP_MARK
from harness.run.job import JobRun

#: How long a removal someone else started (auto_remove after a kill) may take before we stop waiting.
REMOVAL_WAIT_S = 15.0


def started_container(job: JobRun) -> Any | None:
    """The Docker container behind the job, or None when it was never created.

    testcontainers raises ``ContainerStartException`` for a container whose start failed; after such
    a failure the teardown must still run and report the start's own error, not this one (it once
    became "internal error: Container is not started" and hid Docker's reason).
    """
    from testcontainers.core.exceptions import ContainerStartException

    if job.container is None:
        return None
    try:
        return job.container.get_wrapped_container()
    except ContainerStartException:
        return None


def mark_kept(job: JobRun) -> bool:
    """Rename the container to ``…-kept`` and extend its lifetime; False when the daemon would not."""
    wrapped = started_container(job)
    if wrapped is None:
        return False
    try:
        wrapped.reload()
        if wrapped.status != "running":
            return False
        name = job.container_name + labels.KEPT_SUFFIX
        wrapped.rename(name)
        done = wrapped.exec_run(["touch", KEEP_MARK])
        if getattr(done, "exit_code", 1) != 0:
            return False
    except Exception:  # docker.errors.*, a dead daemon (requests ConnectionError)
        return False
    job.container_name = name
    return True


def remove_container(job: JobRun) -> bool:
    """Remove the job's container; True when it is surely gone (or never started)."""
    import docker.errors

    wrapped = started_container(job)
    if wrapped is None:
        return True
    try:
        wrapped.remove(force=True, v=True)
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as exc:  # 409 "removal already in progress": auto_remove was first
        # gone only once the daemon finished: until then its image cannot be removed (the atlas does next)
        return exc.status_code == 409 and "in progress" in str(exc) and _wait_gone(wrapped)
    except Exception:  # the daemon stopped answering: the container may still run
        return False
    return True


def _wait_gone(wrapped: Any) -> bool:
    """Poll until a container being removed by someone else is gone; False if it outlives REMOVAL_WAIT_S."""
    import docker.errors

    deadline = time.monotonic() + REMOVAL_WAIT_S
    while time.monotonic() < deadline:
        try:
            wrapped.reload()
        except docker.errors.NotFound:
            return True
        except Exception:  # the daemon stopped answering
            return False
        time.sleep(0.1)
    return False
