"""Redaction that cannot change meaning (issue 27, cause 8).

Masking serialised JSON text ate the backslash of an escaped quote (``echo \\"api_key=abcd\\"`` became
``echo \\"api_key=***"``), so results.json, repro bundles and atlas.jsonl could stop being JSON. Every
JSON writer now masks the parsed values and serialises afterwards; text that may hold JSON lines is
masked line by line. The secret itself still never reaches a file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.atlas import write_timeline
from harness.atlas.record import AtlasLog, new_record
from harness.binaries import CachedBuild
from harness.incoming.bundle import read_bundle
from harness.incoming.results import read_results
from harness.redact import MASK, Redactor
from harness.repro import BuildIdentity, Bundle, outcome_json
from harness.results import CellResult, RunResults, write_results
from harness.suite.protocol import CellSpec, TestRecord

SECRET = "sk-matrix-0123456789abcdef0123456789abcdef"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVz"
#: Texts whose meaning must survive the mask (the secret part aside), as codex or a user could write them.
HOSTILE = [
    'Set it with: echo "api_key=abcd"',
    'echo "OPENAI_API_KEY=$KEY" >> .env',
    'export OPENAI_API_KEY="hunter2-topsecret"',
    '{"api_key": "abcd1234", "nested": "CODEX_API_KEY=\\"quoted\\""}',
    f"Authorization: Bearer {JWT}, then retry",
    f'the key "{SECRET}" ends here\\',
    'backslashes \\\\ and "quotes" and api_key=\\"x\\"y',
]
GONE = ["=abcd", "$KEY", "hunter2-topsecret", "abcd1234", "quoted", JWT, SECRET]


def assert_no_secret(text: str) -> None:
    for secret in GONE:
        assert secret not in text


@pytest.mark.parametrize("text", HOSTILE)
def test_dumps_masks_values_and_stays_json(text: str) -> None:
    data = {"message": text, text: [text, 1, None, True, 2.5], "tuple": (text,)}
    dumped = Redactor([SECRET]).dumps(data, indent=2)
    back = json.loads(dumped)
    assert back["message"] == Redactor([SECRET])(text) and back["tuple"] == [back["message"]]
    assert back[back["message"]][1:] == [1, None, True, 2.5]
    assert_no_secret(dumped)


def test_text_mask_keeps_the_words_around_the_secret() -> None:
    redact = Redactor([SECRET])
    assert redact('Set it with: echo "api_key=abcd"') == 'Set it with: echo "api_key=***"'
    assert redact('export OPENAI_API_KEY="hunter2-topsecret" now') == 'export OPENAI_API_KEY="***" now'
    assert redact(f"token {JWT}; keep it") == f"token {MASK}; keep it"
    assert redact(f"Bearer {JWT}") == f"Bearer {MASK}"
    assert redact(f"key={SECRET}") == "key=***"
    assert redact("api_key='abcd' `api_key=wxyz` <b>api_key=efgh</b> ?api_key=ijkl&x=1") == (
        "api_key='***' `api_key=***` <b>api_key=***</b> ?api_key=***&x=1")


def test_a_value_under_a_credential_name_is_masked_whole() -> None:
    """Serialised, ``"OPENAI_API_KEY": "abcd1234"`` matched the text pattern; parsed, name and value are apart."""
    data = {"OPENAI_API_KEY": "abcd1234", "env": {"codex_api_key": "0f0f0f0f"}, "tokens": {"refresh_token": "rt_x1",
            "account_id": "acc-1"}, "api_key": 1234, "note": "abc", "CODEX_API_KEY": "***"}
    assert json.loads(Redactor().dumps(data)) == {
        "OPENAI_API_KEY": "***", "env": {"codex_api_key": "***"},
        "tokens": {"refresh_token": "***", "account_id": "acc-1"}, "api_key": 1234, "note": "abc",
        "CODEX_API_KEY": "***"}


def test_dumps_masks_what_default_renders() -> None:
    class Opaque:
        def __str__(self) -> str:
            return f"opaque {SECRET}"

    assert json.loads(Redactor().dumps({"x": Opaque()}, default=str)) == {"x": "opaque ***"}


@pytest.mark.parametrize("text", HOSTILE)
def test_json_lines_stay_json(text: str) -> None:
    line = json.dumps({"type": "item.completed", "item": {"type": "agent_message", "text": text}})
    masked = Redactor([SECRET]).json_line(line)
    assert json.loads(masked)["item"]["text"] == Redactor([SECRET])(text)
    assert_no_secret(masked)


def test_clean_json_lines_are_kept_byte_for_byte_and_others_masked_as_text() -> None:
    redact = Redactor([SECRET])
    clean = '{"type": "turn.started",  "n": 1.50}'
    assert redact.json_line(clean) == clean
    text = "WARN: retrying with api_key=abcd\\"
    assert redact.json_line(text) == "WARN: retrying with api_key=***\\"
    stream = f'{clean}\r\n{json.dumps({"t": HOSTILE[0]})}\n\nplain {SECRET}\n\u2028{{"x": 1}}'
    out = redact.lines(stream)
    assert out.split("\n")[0] == clean + "\r" and out.endswith('\n\u2028{"x": 1}') and "\n\n" in out
    assert json.loads(out.split("\n")[1]) == {"t": 'Set it with: echo "api_key=***"'}
    assert redact.bytes(stream.encode()) == out.encode()
    assert_no_secret(out)


def test_json_line_with_a_lone_surrogate_stays_writable() -> None:
    line = '{"text": "\\ud800 api_key=abcd", "ok": "\u00e9"}'
    masked = Redactor().bytes(line.encode() + b"\n")
    assert json.loads(masked) == {"text": "\ud800 api_key=***", "ok": "\u00e9"}


def test_json_line_with_an_overflowing_number_stays_json() -> None:
    line = '{"text": "api_key=abcd", "big": 1e400}'
    back = json.loads(Redactor().json_line(line))
    assert back == {"text": "api_key=***", "big": "1e400"}


# -- writers -------------------------------------------------------------------------------------------


CELL = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok",))


def hostile_results() -> RunResults:
    tests = [TestRecord(CELL.id, f"test_{i}[ok]", "ok", "fail", text, 0.5) for i, text in enumerate(HOSTILE)]
    cell = CellResult(CELL, "fail", tests=tests, message=HOSTILE[0],
                      fingerprint={"stderr": HOSTILE, "version_line": "codex-cli 0.117.0"})
    return RunResults(started=datetime(2026, 12, 1, tzinfo=UTC), duration_s=3.0, cells=[cell],
                      builds={"0.117.0": {"stderr": HOSTILE}})


def test_results_json_with_secrets_in_messages_is_valid_and_round_trips(tmp_path: Path) -> None:
    path = write_results(hostile_results(), tmp_path, Redactor([SECRET]))
    back = read_results(path)  # json.loads inside: a broken file is a UserError here
    assert_no_secret(path.read_text(encoding="utf-8"))
    redact = Redactor([SECRET])
    assert [t.message for t in back.cells[0].tests] == [redact(t) for t in HOSTILE]
    assert back.cells[0].message == 'Set it with: echo "api_key=***"'
    assert back.builds["0.117.0"]["stderr"] == [redact(t) for t in HOSTILE]


def test_repro_bundle_with_secrets_in_its_artifacts_is_valid_and_round_trips(tmp_path: Path) -> None:
    stdout = "".join(json.dumps({"type": "item.completed", "item": {"text": t}}) + "\n" for t in HOSTILE)
    build = CachedBuild(version="0.117.0", root=Path("/c/t"), binary=Path("/c/t/codex"), binary_relpath="codex",
                        sha256="ab" * 32, tree_sha256="cd" * 32, integrity="sha512-" + "A" * 86 + "==",
                        version_line="codex-cli 0.117.0", npm_version="0.117.0-linux-x64",
                        tarball="https://registry.npmjs.org/x.tgz")
    tests = [TestRecord(CELL.id, f"test_{i}[ok]", "ok", "fail", t) for i, t in enumerate(HOSTILE)]
    outcome: dict[str, Any] = outcome_json(CellResult(CELL, "fail", tests=tests, message=HOSTILE[1]))
    bundle = Bundle(cell=CELL, build=BuildIdentity.of(build), image={"tag": "img:1", "id": "sha256:1"},
                    timeouts={"codex_s": 45.0}, outcome=outcome,
                    scenarios={"ok": {"stdout": stdout, "stderr": "\n".join(HOSTILE), "env": {"K": HOSTILE[2]}}})
    path = bundle.write(tmp_path / "b.repro.json", Redactor([SECRET]))
    back = read_bundle(path)  # a broken file is a UserError here
    assert_no_secret(path.read_text(encoding="utf-8"))
    assert back.outcome["message"] == 'echo "OPENAI_API_KEY=***" >> .env'
    assert back.scenarios["ok"]["env"] == {"K": 'export OPENAI_API_KEY="***"'}
    lines = back.scenarios["ok"]["stdout"].splitlines()
    assert [json.loads(line)["item"]["text"] for line in lines] == [Redactor([SECRET])(t) for t in HOSTILE]


def test_atlas_record_with_secrets_is_read_back_not_skipped(tmp_path: Path) -> None:
    log = AtlasLog(tmp_path / "atlas.jsonl", Redactor([SECRET]))
    record = new_record("0.117.0", "0.117.0")
    record["status"] = "ok"
    record["fingerprint"] = {"stderr": HOSTILE}
    log.append(record)
    (back,) = log.read()  # a line that is not JSON is skipped on read: the record would be lost
    assert_no_secret(log.path.read_text(encoding="utf-8"))
    assert back["fingerprint"]["stderr"] == [Redactor([SECRET])(t) for t in HOSTILE]
    unmasked = {**record, "version": "0.118.0", "npm_version": "0.118.0"}  # as a hand-edited log could hold it
    paths = write_timeline(tmp_path / "out", [back, unmasked], Redactor([SECRET]))
    files = {p.name: p.read_text(encoding="utf-8") for p in paths}
    json.loads(files["atlas.json"])
    for name, content in files.items():
        assert_no_secret(content)  # masked before rendering: no &quot; in HTML hides a secret from the mask
        assert "api_key=***" in content, name
