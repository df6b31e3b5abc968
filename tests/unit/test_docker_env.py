"""Which daemon: DOCKER_HOST, else the current docker context (exported so every client agrees), else the
local socket; a daemon that does not answer is one line naming where it looked and the fix."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.docker_env import LOCAL_SOCKET, current_context, docker_host, use_docker_context
from harness.errors import UserError


def _context(config: Path, name: str, host: str, tls: bool = False) -> Path:
    """A context as `docker context create NAME --docker host=HOST[,ca=…,cert=…,key=…]` stores it."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
    material = config / "contexts" / "tls" / digest / "docker"
    if tls:
        material.mkdir(parents=True)
        for pem in ("ca.pem", "cert.pem", "key.pem"):
            (material / pem).write_text("-----BEGIN-----\n")
    return material


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private docker CLI config dir; the variables use_docker_context exports are restored afterwards."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    exported = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY")
    saved = {name: os.environ.pop(name, None) for name in exported}
    yield config
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


def test_no_host_and_no_context_is_the_local_socket(docker_config: Path) -> None:
    assert current_context() is None and use_docker_context() is None and docker_host() == LOCAL_SOCKET


def test_current_context_from_config_json_becomes_docker_host(docker_config: Path) -> None:
    _context(docker_config, "remote", "tcp://remote.invalid:2375")
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert use_docker_context() == "remote"
    assert os.environ["DOCKER_HOST"] == "tcp://remote.invalid:2375" and docker_host() == "tcp://remote.invalid:2375"


def test_docker_context_variable_wins_and_docker_host_wins_over_both(docker_config: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _context(docker_config, "a", "tcp://a.invalid:2375")
    _context(docker_config, "b", "tcp://b.invalid:2375")
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "a"}))
    monkeypatch.setenv("DOCKER_CONTEXT", "b")
    assert use_docker_context() == "b" and docker_host() == "tcp://b.invalid:2375"
    os.environ["DOCKER_HOST"] = "tcp://host.invalid:2375"  # the fixture, not monkeypatch, restores it: no leak
    assert use_docker_context() is None and docker_host() == "tcp://host.invalid:2375"


def test_missing_context_names_it(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "nowhere")
    with pytest.raises(UserError, match=r"docker context 'nowhere' does not exist.*docker context ls"):
        use_docker_context()


def test_unanswered_context_is_one_line_naming_it(docker_config: Path, capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    _context(docker_config, "gone", f"unix://{tmp_path}/no-daemon.sock")
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    assert main(["run", "--versions", "0.117.0", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(docker context gone)" in err and "no-daemon.sock" in err
    assert not (tmp_path / "out").exists()


def test_context_without_a_config_json_and_with_tls(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    material = _context(docker_config, "secure", "tcp://secure.invalid:2376", tls=True)
    monkeypatch.setenv("DOCKER_CONTEXT", "secure")  # no config.json at all: docker-py alone loses the store here
    assert use_docker_context() == "secure"
    assert os.environ["DOCKER_HOST"] == "tcp://secure.invalid:2376"
    assert os.environ["DOCKER_CERT_PATH"] == str(material) and os.environ["DOCKER_TLS_VERIFY"] == "1"


def test_no_test_leaves_a_docker_host_behind() -> None:
    """Runs after the tests above (file order): whatever they exported was restored, so the rest of the
    session (integration tests included) still talks to the real daemon."""
    assert ".invalid" not in os.environ.get("DOCKER_HOST", "")
