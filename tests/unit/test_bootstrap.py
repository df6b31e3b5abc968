""".ci/bootstrap installs what the README's test command needs on any machine, not only under CI=true.

The browser test (tests/integration/test_report_browser.py) needs chromium; bootstrap once installed
it only in CI, so a newcomer's ``bash .ci/bootstrap && .venv/bin/python -m pytest`` skipped it. Here
bootstrap runs in a scratch copy of the project with stub tools on PATH (``id`` says root, ``apt-get``
refuses the install), so the one-line error names exactly the packages it set out to install.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import test_report_browser as browser_test

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("python3", "mktemp", "tail", "rm", "cat")  # the real ones bootstrap's first step uses


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{shutil.which('sh')}\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def _packages_bootstrap_installs(tmp_path: Path, env: dict[str, str]) -> str:
    project = tmp_path / "project"
    (project / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "bootstrap", project / ".ci" / "bootstrap")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        real = sys.executable if tool == "python3" else shutil.which(tool)
        assert real is not None, tool
        (bin_dir / tool).symlink_to(real)
    for present in ("docker", "dockerd", "debootstrap", "tar"):
        _stub(bin_dir, present, "exit 0")
    _stub(bin_dir, "id", 'echo 0')
    _stub(bin_dir, "apt-get", '[ "$1" = update ] && exit 0; echo "E: stub refuses: $*"; exit 1')
    proc = subprocess.run([shutil.which("bash") or "/bin/bash", str(project / ".ci" / "bootstrap")],
                          env={**env, "PATH": str(bin_dir)}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("bootstrap: error: apt-get install ")]
    return line


@pytest.mark.parametrize("ci", [None, "true"])
def test_bootstrap_installs_chromium_with_or_without_ci(tmp_path: Path, ci: str | None) -> None:
    env = {"HOME": str(tmp_path)} | ({"CI": ci} if ci else {})
    line = _packages_bootstrap_installs(tmp_path, env)
    assert "chromium" in line.split(), line


def test_browser_test_fails_rather_than_skips_where_bootstrap_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(browser_test, "bootstrapped", lambda: True)
    with pytest.raises(pytest.fail.Exception, match=r"bash \.ci/bootstrap"):
        browser_test._chromium()
    monkeypatch.setattr(browser_test, "bootstrapped", lambda: False)  # a hand-made environment
    with pytest.raises(pytest.skip.Exception, match=r"bash \.ci/bootstrap"):
        browser_test._chromium()


def test_bootstrapped_means_this_venv_with_bootstrap_s_stamp(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert not browser_test.bootstrapped()
    if (ROOT / ".venv" / ".codex-matrix-installed").is_file():
        monkeypatch.setattr(sys, "prefix", str(ROOT / ".venv"))
        assert browser_test.bootstrapped()
