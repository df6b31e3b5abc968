"""Where codex-cli builds come from: the npm registry, its packument, and version → tarball resolution.

The registry is chosen the way npm chooses it (environment, then ``.npmrc`` files) so a team behind a
mirror does not need a second setting. Resolution knows the two packaging eras of ``@openai/codex``:
up to 0.98 one tarball carries every platform; from 0.99 the Linux x64 build is the separate version
``X.Y.Z-linux-x64`` named by ``optionalDependencies["@openai/codex-linux-x64"]``.
"""

from __future__ import annotations

import bisect
import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from harness.binaries import transfer
from harness.errors import UserError
from harness.npmversion import NpmVersion

PACKAGE = "@openai/codex"
LINUX_X64_ALIAS = "@openai/codex-linux-x64"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
USER_AGENT = "codex-native-matrix (urllib)"
TIMEOUT_S = transfer.READ_TIMEOUT_S  # one silent socket read; the whole transfer has a deadline too
# Platform builds published as versions of the same package; never a version a user asks for.


@dataclass(frozen=True)
class TarballRef:
    """The one tarball that holds the Linux x64 build of a codex-cli version."""

    version: str  # what the user asked for, e.g. "0.169.0"
    npm_version: str  # the npm version actually downloaded, e.g. "0.169.0-linux-x64"
    tarball: str
    integrity: str


def registry_url() -> str:
    """npm's registry choice: env NPM_CONFIG_REGISTRY, then ./.npmrc, then ~/.npmrc, then npmjs.org.

    A scoped ``@openai:registry=`` line wins over a plain ``registry=`` line of the same file, as in npm.
    """
    for name in ("NPM_CONFIG_REGISTRY", "npm_config_registry"):
        value = os.environ.get(name, "").strip()
        if value:
            return _with_slash(value)
    for npmrc in (Path.cwd() / ".npmrc", Path.home() / ".npmrc"):
        from_file = _registry_from_npmrc(npmrc)
        if from_file:
            return _with_slash(from_file)
    return DEFAULT_REGISTRY


def _registry_from_npmrc(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key in ("registry", "@openai:registry"):
            found[key] = _expand_env(value.strip().strip("\"'"))
    return found.get("@openai:registry") or found.get("registry")


def _expand_env(value: str) -> str:
    """npm expands ``${VAR}`` in .npmrc values; mirrors are often configured that way in CI."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: os.environ.get(m.group(1), ""), value)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def check_version_shape(version: str) -> None:
    """Reject strings that are not plain npm versions before they become cache directory names: the
    string as given, nothing stripped (``0.117.0\\n`` is no version; :mod:`harness.npmversion`)."""
    try:
        parsed = NpmVersion.parse(version)  # a build from elsewhere is cached by its id too
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if parsed.text != version:
        raise UserError(f"{version[:40]!r} is not a codex-cli version: pass one like 0.117.0, "
                        "without spaces or a newline around it")


#: The abbreviated packument of @openai/codex is a few MB; anything far larger is not an npm answer.
MAX_DOCUMENT_BYTES = 256 << 20


def get_json(url: str, *, registry: str, accept: str = "application/json") -> Any:
    """GET a JSON document from the registry with errors turned into one-line ``UserError``s.

    Bounded by the transfer deadline; a cut-short body and an answer that is not JSON (an HTML page
    from a proxy or a wrong URL) get their own messages rather than "unreachable".
    """
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": USER_AGENT})
    deadline = transfer.Deadline(transfer.deadline_s())
    parts: list[bytes] = []
    try:
        with urllib.request.urlopen(request, timeout=deadline.socket_timeout()) as response:
            content_type = response.headers.get("Content-Type", "")
            transfer.read_all(response, what="reading the package list", url=url, deadline=deadline,
                              sink=parts.append, limit=MAX_DOCUMENT_BYTES)
    except transfer.TransferError:
        raise
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise UserError(
                f"{PACKAGE} not found on the npm registry {registry} (HTTP 404): "
                "point NPM_CONFIG_REGISTRY at a registry or mirror that carries it"
            ) from None
        raise UserError(
            f"npm registry {registry} answered HTTP {exc.code} for {url}: retry later or set "
            "NPM_CONFIG_REGISTRY to a working mirror"
        ) from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise unreachable(registry, exc) from None
    body = b"".join(parts)
    try:
        return json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise not_json(registry, url, content_type, body) from None


def not_json(registry: str, url: str, content_type: str, body: bytes) -> UserError:
    excerpt = " ".join(body[:60].decode("utf-8", errors="replace").split())
    kind = content_type.split(";")[0].strip() or "no content type"
    return UserError(
        f"npm registry {registry} answered {url} with something that is not JSON ({kind}: {excerpt!r}): "
        "NPM_CONFIG_REGISTRY (or registry= in .npmrc) must point at an npm registry, not a web page or a "
        "proxy's login page"
    )


def unreachable(registry: str, exc: BaseException) -> UserError:
    reason = getattr(exc, "reason", None) or exc
    return UserError(
        f"npm registry {registry} is unreachable ({reason}): check the network or set "
        "NPM_CONFIG_REGISTRY (or registry= in .npmrc) to a reachable mirror"
    )


def packument(registry: str) -> dict[str, Any]:
    """The abbreviated packument (~0.4 MB instead of many MB): enough for dist and optionalDependencies."""
    url = registry + urllib.parse.quote(PACKAGE, safe="@")  # "@openai%2Fcodex"
    doc = get_json(url, registry=registry, accept="application/vnd.npm.install-v1+json")
    if not isinstance(doc, dict) or not isinstance(doc.get("versions"), dict):
        raise UserError(
            f"npm registry {registry} returned no version list for {PACKAGE}: "
            "check that NPM_CONFIG_REGISTRY points at an npm registry"
        )
    return doc


def resolve(doc: dict[str, Any], version: str, registry: str) -> TarballRef:
    """Pick the tarball holding the Linux x64 build of ``version`` (either packaging era)."""
    versions: dict[str, Any] = doc["versions"]
    meta = versions.get(version)
    if not isinstance(meta, dict):
        raise UserError(
            f"codex-cli {version} is not published as {PACKAGE} on {registry}: "
            f"pick an existing version ({nearest_hint(list(versions), version)})"
        )
    target_version, target = version, meta
    alias = (meta.get("optionalDependencies") or {}).get(LINUX_X64_ALIAS)
    if isinstance(alias, str):
        name, _, aliased = alias.removeprefix("npm:").rpartition("@")
        if name != PACKAGE or not isinstance(versions.get(aliased), dict):
            raise UserError(
                f"codex-cli {version} names its Linux x64 build {alias!r}, which {registry} does not "
                "carry: use a registry that mirrors all versions of @openai/codex"
            )
        target_version, target = aliased, versions[aliased]
    dist = target.get("dist") or {}
    tarball, integrity = dist.get("tarball"), dist.get("integrity")
    if not isinstance(tarball, str) or not isinstance(integrity, str):
        raise UserError(
            f"{PACKAGE}@{target_version} on {registry} has no tarball/integrity in its metadata: "
            "use a registry that publishes sha512 integrity (e.g. https://registry.npmjs.org/)"
        )
    return TarballRef(version=version, npm_version=target_version, tarball=tarball, integrity=integrity)


def linux_x64_version(doc: dict[str, Any], version: str) -> str | None:
    """The npm version that holds ``version``'s Linux x64 build, per the packument; None when it has none.

    Up to 0.98 that is the version itself (one tarball, every platform); from 0.99 the
    ``@openai/codex-linux-x64`` alias (``npm:@openai/codex@X.Y.Z-linux-x64``), which some releases name
    without publishing it (0.142.1, 0.153.1).
    """
    versions: dict[str, Any] = doc.get("versions") or {}
    meta = versions.get(version)
    if not isinstance(meta, dict):
        return None
    alias = (meta.get("optionalDependencies") or {}).get(LINUX_X64_ALIAS)
    if not isinstance(alias, str):
        return version
    name, _, aliased = alias.removeprefix("npm:").rpartition("@")
    return aliased if name == PACKAGE and isinstance(versions.get(aliased), dict) else None


def nearest_hint(published: list[str], wanted: str, count: int = 2) -> str:
    """``nearest published: 0.42.0, 0.44.0; latest 0.169.0`` — the versions around ``wanted``."""
    parsed: list[tuple[Version, str]] = []
    for item in published:
        try:
            parsed.append((NpmVersion.parse(item, local=False).key, item))
        except ValueError:  # a platform package's version, or not a version at all
            continue
    if not parsed:
        return "the registry lists none"
    parsed.sort()
    try:
        at = bisect.bisect_left([v for v, _ in parsed], NpmVersion.parse(wanted).key)
    except ValueError:
        at = len(parsed)
    around = [s for _, s in parsed[max(0, at - count) : at + count]]
    stable = [s for v, s in parsed if not v.is_prerelease]
    latest = stable[-1] if stable else parsed[-1][1]
    return f"nearest published: {', '.join(around)}; latest {latest}"
