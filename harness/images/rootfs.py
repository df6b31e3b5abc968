"""Offline base image: ``debootstrap`` a Debian root filesystem and ``docker import`` it.

The tarball of the tree is kept in the build cache (:mod:`harness.images.basecache`) and imported
from there, so the next fresh daemon imports it without bootstrapping again.

Used when no container registry answers (the normal case on locked-down CI runners) but a Debian
mirror does. The rootfs lives in a scratch dir inside the build cache (not /tmp, which may be
``noexec``/``nodev`` or RAM-backed) and is always removed, after unmounting anything debootstrap left
mounted inside it: deleting a tree with a live ``proc`` mount in it would be a disaster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.binaries import scratch
from harness.errors import UserError
from harness.progress import Progress

ROOTFS_PREFIX = ".rootfs-"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
DEBOOTSTRAP_TIMEOUT_S = 30 * 60
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def debian_mirror(etc_apt: Path = Path("/etc/apt"), os_release: Path = Path("/etc/os-release")) -> str:
    """``CODEX_MATRIX_DEBIAN_MIRROR``, else the host's Debian mirror (if Debian), else deb.debian.org."""
    override = os.environ.get("CODEX_MATRIX_DEBIAN_MIRROR", "").strip()
    if override:
        return override.rstrip("/")
    try:
        release = os_release.read_text()
    except OSError:
        release = ""
    if "ID=debian" not in release.splitlines():
        return DEFAULT_MIRROR
    for uri in _apt_uris(etc_apt):
        return uri.rstrip("/")
    return DEFAULT_MIRROR


def _apt_uris(etc_apt: Path) -> Iterator[str]:
    """Main-archive URIs from sources.list (one-line) and *.sources (deb822), security/updates skipped."""
    files = [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*.list"))]
    for path in files:
        for line in _lines(path):
            words = [w for w in line.split() if not w.startswith("[") and not w.endswith("]")]
            if len(words) >= 3 and words[0] == "deb" and _main_suite(words[2]):
                yield words[1]
    for path in sorted((etc_apt / "sources.list.d").glob("*.sources")):
        for stanza in "\n".join(_lines(path, keep_blank=True)).split("\n\n"):
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (ln.partition(":") for ln in stanza.splitlines() if ":" in ln)}
            suites = fields.get("suites", "").split()
            if "deb" in fields.get("types", "").split() and any(_main_suite(s) for s in suites):
                yield from fields.get("uris", "").split()[:1]


def _main_suite(suite: str) -> bool:
    return "-" not in suite and "/" not in suite  # "bookworm", not "bookworm-security" / "stable/updates"


def _lines(path: Path, *, keep_blank: bool = False) -> list[str]:
    try:
        raw = path.read_text().splitlines()
    except OSError:
        return []
    out = [ln.split("#", 1)[0].rstrip() for ln in raw]
    return out if keep_blank else [ln for ln in out if ln.strip()]


def debootstrap_command(progress: Progress) -> str:
    """Path of debootstrap, installing it with apt-get when missing and we are root."""
    if os.geteuid() != 0:
        raise UserError(
            "no container registry answers, and building the base image offline needs root for debootstrap: "
            "run as root (e.g. `sudo bash .ci/bootstrap` once, then `sudo codex-matrix build`) or make "
            "debian:bookworm-20250520-slim pullable"
        )
    found = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise UserError("debootstrap is not installed and apt-get is unavailable: install debootstrap "
                        "(and debian-archive-keyring) with the host's package manager")
    progress.start("install debootstrap (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in (["apt-get", "install", "-y", "-q", "debootstrap"],
                    ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "debootstrap"]):
        done = subprocess.run(attempt, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False)
        if done.returncode == 0 and attempt[1] == "install":
            break
    found = shutil.which("debootstrap", path="/usr/sbin:/sbin:" + os.environ.get("PATH", ""))
    if not found:
        raise UserError("`apt-get install debootstrap` failed: install debootstrap by hand "
                        "(`apt-get update && apt-get install -y debootstrap`) and rerun")
    progress.done(found)
    return found


def bootstrap(rootfs: Path, *, suite: str, variant: str, packages: Sequence[str], mirror: str,
              progress: Progress) -> None:
    """Run debootstrap into ``rootfs`` (must not exist yet or be empty), then trim caches."""
    command = [debootstrap_command(progress), f"--variant={variant}", f"--include={','.join(packages)}"]
    if KEYRING.is_file():
        command.append(f"--keyring={KEYRING}")
    command += [suite, str(rootfs), mirror]
    progress.start(f"debootstrap {suite} ({variant} + {', '.join(packages)}) from {mirror}")
    tail: deque[str] = deque(maxlen=15)
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    timer = threading.Timer(DEBOOTSTRAP_TIMEOUT_S, _killpg, (proc.pid,))
    timer.start()
    phases = 0
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            tail.append(line)
            # "I: Retrieving libc6 2.36-9" -> summarise on the phase word, show the full line live
            if line.startswith(("I: Retrieving", "I: Extracting", "I: Unpacking", "I: Configuring")):
                phases += 1
            progress.update(line)
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            _killpg(proc.pid)
            proc.wait()
    if code != 0:
        for line in tail:
            progress.note(f"  | {line}")
        last = tail[-1] if tail else "no output"
        raise UserError(f"debootstrap {suite} from {mirror} failed (exit {code}: {last}): check that the "
                        "mirror is reachable or set CODEX_MATRIX_DEBIAN_MIRROR to one that is")
    _trim(rootfs)
    progress.done(f"{phases} package steps, {_size_mb(rootfs):.0f} MB")


def _killpg(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _trim(rootfs: Path) -> None:
    """Drop what only a package manager with network needs; empty host identity files."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*_*",
                    "var/log/*.log", "var/log/apt/*"):
        for path in rootfs.glob(pattern):
            if path.is_file() and not path.is_symlink():
                path.unlink()
    for name in ("etc/resolv.conf", "etc/hostname"):
        path = rootfs / name
        if path.is_file() and not path.is_symlink():
            path.write_text("")


def _size_mb(rootfs: Path) -> float:
    total = 0
    for dirpath, _dirs, files in os.walk(rootfs):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total / 1e6


def import_tarball(client: Any, chunks: Iterable[bytes], *, tag: str, labels: Mapping[str, str],
                   progress: Progress, total: int | None = None) -> str:
    """``docker import`` a root filesystem tarball streamed from ``chunks``; returns the image id."""
    repository, _, version = tag.rpartition(":")
    changes = ["ENV LANG=C.UTF-8", f"ENV PATH={PATH_ENV}", 'CMD ["bash"]']
    changes += [f'LABEL "{key}"="{value}"' for key, value in sorted(labels.items())]
    progress.start(f"docker import {tag}", total)

    def counted() -> Iterator[bytes]:
        for data in chunks:
            progress.advance(len(data))
            yield data

    try:
        client.api.import_image_from_data(counted(), repository=repository, tag=version, changes=changes)
    except UserError:
        raise
    except Exception as exc:  # docker.errors.*: report as a fixable environment problem
        raise UserError(f"docker import of the base rootfs failed ({exc}): check `docker info` and free "
                        "disk space, then rerun") from None
    image_id = str(client.images.get(tag).id)
    progress.done(image_id[:19])
    return image_id


def mounts_below(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[Path]:
    """Mount points at or below ``path``, deepest first (the order to unmount them)."""
    root = os.path.realpath(path)
    found: list[Path] = []
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].encode().decode("unicode_escape")  # "\040" for spaces
            if point == root or point.startswith(root + "/"):
                found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def remove_rootfs(path: Path) -> None:
    """Unmount anything left inside (proc/sys from a killed debootstrap), then delete the tree."""
    for point in mounts_below(path):
        subprocess.run(["umount", "-l", str(point)], stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if mounts_below(path):
        raise UserError(f"cannot unmount filesystems below {path}: unmount them by hand, then delete it")
    scratch.discard(path)


def make_rootfs_dir(cache: Path) -> Path:
    scratch.sweep(cache, ROOTFS_PREFIX, remove=remove_rootfs)
    return scratch.make(cache, ROOTFS_PREFIX)
