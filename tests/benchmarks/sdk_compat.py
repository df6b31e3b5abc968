"""Which ``@openai/codex-sdk`` versions work with which codex builds: a host-side compatibility probe.

Each (SDK version, codex build, mode) pair runs one turn through the lane adapter protocol
(``harness/lanes/codex_sdk/adapter.mjs`` under :func:`harness.lanes.runner.run_adapter`, hard timeout),
with a real codex build from the build cache and the SDK's ``dist/`` from the SDK cache, against the fake
Responses API on loopback, in a container-like environment (empty HOME, fresh CODEX_HOME, no host env):

    .venv/bin/python tests/benchmarks/sdk_compat.py --sdk 0.163.0,0.114.0 \\
        --versions 0.42.0,0.99.0,0.114.0,0.116.0,0.120.0,0.171.0 --mode documented,provider

It prints one grid per (mode, scenario) of outcome classes (ok, exit-nonzero, silent-empty, hang, crash)
and one detail line per pair: the error's first line, how many requests the fake answered, and which
hosts codex tried to reach beyond loopback.

No request can reach a real endpoint: codex gets ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` pointing
at a loopback *sinkhole* that journals the host each request was aimed at and closes the connection
(``NO_PROXY`` keeps the fake direct). An SDK that sends its requests to api.openai.com therefore shows
as "sinkhole: api.openai.com" instead of leaving the machine, and a run that then waits forever is
killed at the timeout and classified ``hang``.

Modes: ``documented`` gives the SDK ``baseUrl`` + ``apiKey`` as its README says, with a CODEX_HOME
config.toml that pins no provider (only the off-switches for plugin sync and metrics, and codex's own
retry defaults): the answer the SDK's users get. ``provider`` pins the fake as a custom provider in
config.toml (every SDK version) and through the SDK's ``config`` option (0.99+), so only the event seam
is tested.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from harness.binaries import cache as builds  # noqa: E402
from harness.fakeapi import FakeResponsesAPI, write_codex_config  # noqa: E402
from harness.fakeapi.codex_config import DEFAULT_PROVIDER_SETTINGS  # noqa: E402
from harness.lane.executable import release_of  # noqa: E402
from harness.lanes import sdk_cache  # noqa: E402
from harness.lanes.protocol import AdapterRequest, AdapterResult, first_line  # noqa: E402
from harness.lanes.runner import run_adapter  # noqa: E402

KEY = "sk-sdk-compat-0000-not-a-real-key"
ADAPTER = REPO / "harness" / "lanes" / "codex_sdk" / "adapter.mjs"
MODEL = "gpt-5.5"  # a slug builds 0.146+ know, so they declare their shell tool (provider mode)
PROMPT = "Reply only with OK"
SHORT = {"ok": "ok", "exit-nonzero": "EXIT", "silent-empty": "EMPTY", "hang": "HANG", "crash": "CRASH"}
DOCUMENTED_CONFIG = """# documented mode: no provider pinned; only what stops calls a user's codex makes beside the turn
[features]
plugins = false

[analytics]
enabled = false

[otel]
metrics_exporter = "none"
"""


class Sinkhole:
    """A loopback HTTP proxy that journals where each request was going and answers nothing."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.hits: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True, name="sinkhole").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    head = conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]
                except OSError:
                    head = ""
                parts = head.split()
                target = parts[1] if len(parts) > 1 else "?"
                host = target.split("//")[-1].split("/")[0]
                with self._lock:
                    self.hits.append(host)
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def since(self, mark: int) -> list[str]:
        with self._lock:
            return self.hits[mark:]


@dataclass
class Pair:
    sdk: str
    build: str
    mode: str
    scenario: str
    outcome: str
    error: str | None
    events: list[str]
    final_text: str | None
    exit_code: int | None
    fake_posts: int
    fake_seen: list[str]  # distinct "credential status" pairs of the fake's answers, e.g. "valid 200"
    sinkhole: list[str]
    wall_s: float | None
    base_url_via: str | None


def provider_config(url: str) -> dict[str, Any]:
    """The pinned provider as the SDK's ``config`` object (the same one config.toml pins)."""
    return {"model_provider": "fake", "model_providers": {"fake": {
        "name": "fake", "base_url": url, "wire_api": "responses", "requires_openai_auth": True,
        **DEFAULT_PROVIDER_SETTINGS}}}


def run_pair(api: FakeResponsesAPI, sink: Sinkhole, sdk: sdk_cache.CachedSdk, build: builds.CachedBuild, mode: str,
             scenario: str, timeout_s: float, auth_json: bool = False) -> Pair:
    root = Path(tempfile.mkdtemp(prefix="sdk-compat-", dir=Path.home() / ".cache"))  # codex warns under /tmp
    tag = f"{root.name}-{mode}"
    try:
        home, cwd = root / "home", root / "work"
        codex_home = home / ".codex"
        cwd.mkdir(parents=True)
        codex_home.mkdir(parents=True)
        url = api.provider_url(scenario, tag)
        options: dict[str, Any] = {"sdk_dist": str(sdk.dist), "mode": mode}
        if mode == "provider":
            write_codex_config(codex_home, url, model=MODEL, version=release_of(build.version))
            options["config"] = provider_config(url)
        else:
            (codex_home / "config.toml").write_text(DOCUMENTED_CONFIG, encoding="utf-8")
        if auth_json:  # the key as `codex login --api-key` stores it: builds 0.36-0.42 read no key from the env
            (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": KEY}), encoding="utf-8")
        proxy = sink.url
        env = {"CODEX_API_KEY": KEY, "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "ALL_PROXY": proxy,
               "https_proxy": proxy, "http_proxy": proxy, "all_proxy": proxy,
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        request = AdapterRequest(prompt=PROMPT, cwd=str(cwd), codex_path=str(build.binary),
                                 codex_home=str(codex_home), home=str(home), base_url=url, timeout_s=timeout_s,
                                 env=env, options=options)
        mark = len(sink.hits)
        result: AdapterResult = run_adapter(["node", str(ADAPTER)], request, timeout_s + 10,
                                            lane=f"codex-sdk@{sdk.version}",
                                            env={"PATH": "/usr/local/bin:/usr/bin:/bin"})
        posts = [e for e in api.journal(tag) if e["method"] == "POST"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    traits = result.extra.get("sdk") if isinstance(result.extra.get("sdk"), dict) else {}
    return Pair(sdk=sdk.version, build=build.version, mode=mode, scenario=scenario, outcome=result.outcome,
                error=first_line(result.error) if result.error else None, events=list(result.events),
                final_text=result.final_text, exit_code=result.exit_code, fake_posts=len(posts),
                fake_seen=sorted({f"{e.get('credential')} {e.get('status')}" for e in posts}),
                sinkhole=sorted(set(sink.since(mark))), wall_s=result.wall_s,
                base_url_via=traits.get("base_url_via") if traits else None)


def grid(pairs: list[Pair], sdks: list[str], versions: list[str], mode: str, scenario: str) -> str:
    cells = {(p.sdk, p.build): p for p in pairs if p.mode == mode and p.scenario == scenario}
    width = max(7, *(len(v) for v in versions))
    lines = [f"mode {mode}, scenario {scenario}  (rows: SDK version; columns: codex build)",
             f"{'sdk':>9} " + " ".join(f"{v:>{width}}" for v in versions)]
    for sdk in sdks:
        row = [SHORT.get(cells[(sdk, v)].outcome, "?") if (sdk, v) in cells else "-" for v in versions]
        lines.append(f"{sdk:>9} " + " ".join(f"{c:>{width}}" for c in row))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdk", required=True, help="comma-separated @openai/codex-sdk versions")
    parser.add_argument("--versions", required=True, help="comma-separated codex builds")
    parser.add_argument("--mode", default="documented,provider", help="documented, provider or both")
    parser.add_argument("--scenarios", default="ok", help="fake scenarios, e.g. ok,tool")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="the adapter's budget per run in s (default 60: a build that cannot reach its endpoint "
                             "gives up after ~25-32 s of retries, which a shorter budget would call a hang)")
    parser.add_argument("--auth-json", action="store_true",
                        help="also store the key in CODEX_HOME/auth.json (0.36-0.42 read no key from the env)")
    parser.add_argument("--json", type=Path, help="also write every pair as JSON lines here")
    args = parser.parse_args(argv)
    sdk_versions = [v for v in args.sdk.split(",") if v]
    versions = [v for v in args.versions.split(",") if v]
    modes = [m for m in args.mode.split(",") if m]
    scenarios = [s for s in args.scenarios.split(",") if s]
    if not shutil.which("node"):
        print("sdk_compat: node is not on PATH (Node >= 18 runs the SDK)", file=sys.stderr)
        return 2
    sdks = {v: sdk_cache.fetch_sdk(v) for v in sdk_versions}
    cached = {v: builds.fetch(v) for v in versions}
    pairs: list[Pair] = []
    sink = Sinkhole()
    out = args.json.open("w", encoding="utf-8") if args.json else None
    started = time.monotonic()
    with FakeResponsesAPI(valid_keys=[KEY]) as api:
        for mode in modes:
            for scenario in scenarios:
                for sdk in sdk_versions:
                    for version in versions:
                        pair = run_pair(api, sink, sdks[sdk], cached[version], mode, scenario, args.timeout,
                                        args.auth_json)
                        pairs.append(pair)
                        if out:
                            out.write(json.dumps(asdict(pair)) + "\n")
                            out.flush()
                        print(f"{mode:>10} {scenario:>4} sdk {sdk:>8} codex {version:>8}: {pair.outcome:<12} "
                              f"posts {pair.fake_posts} ({','.join(pair.fake_seen)}) {pair.wall_s or 0:5.1f}s"
                              f"{' sinkhole: ' + ','.join(pair.sinkhole) if pair.sinkhole else ''}"
                              f"{' | ' + (pair.error or '')[:150] if pair.error else ''}", flush=True)
    if out:
        out.close()
    print()
    for mode in modes:
        for scenario in scenarios:
            print(grid(pairs, sdk_versions, versions, mode, scenario))
            print()
    print(f"{len(pairs)} runs in {time.monotonic() - started:.0f} s; "
          "ok = answer, EXIT = reported failure, EMPTY = no answer and no error, HANG = killed at the timeout, "
          "CRASH = the SDK threw something else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
