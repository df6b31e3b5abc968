"""The fake Responses API over real loopback HTTP: scenarios, auth, journal, concurrency, shutdown, config."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest

from harness.fakeapi import SCENARIOS, FakeResponsesAPI, write_codex_config
from harness.fakeapi.scenarios import SLOW_SCRIPT

KEY = "sk-test-fakeapi-0123456789abcdef"
USAGE = {
    "input_tokens": 11,
    "input_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 4},
    "output_tokens": 7,
    "output_tokens_details": {"reasoning_tokens": 2},
    "total_tokens": 18,
}
SHELL_BODY: dict[str, Any] = {
    "model": "gpt-fake",
    "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
    "tools": [{"type": "function", "name": "shell", "parameters": {}}, {"type": "web_search"}],
}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def api() -> Iterator[FakeResponsesAPI]:
    with FakeResponsesAPI(valid_keys=[KEY]) as server:
        yield server


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """SSE frames as (event name, data); asserts the framing codex relies on."""
        frames = [f for f in self.body.decode().split("\n\n") if f]
        out: list[tuple[str, dict[str, Any]]] = []
        for frame in frames:
            event_line, data_line = frame.split("\n")
            assert event_line.startswith("event: ") and data_line.startswith("data: ")
            data = json.loads(data_line[len("data: ") :])
            assert data["type"] == event_line[len("event: ") :]
            out.append((data["type"], data))
        return out


def post(
    provider_url: str,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = KEY,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    suffix: str = "/responses",
) -> Reply:
    all_headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **(headers or {})}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body if body is not None else {"model": "gpt-fake", "input": []}).encode()
    request = urllib.request.Request(
        provider_url + suffix, data=data if method == "POST" else None, method=method, headers=all_headers
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


# -- scenarios ---------------------------------------------------------------------------------------


def test_ok_streams_assistant_message_then_completed_with_usage(api: FakeResponsesAPI) -> None:
    reply = post(api.provider_url("ok", "c1"))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream"
    events = reply.events()
    assert [name for name, _ in events] == ["response.created", "response.output_item.done", "response.completed"]
    item = events[1][1]["item"]
    assert item["type"] == "message" and item["role"] == "assistant"
    assert item["content"] == [{"type": "output_text", "text": "OK"}]
    completed = events[2][1]["response"]
    assert completed["id"] == events[0][1]["response"]["id"]
    assert completed["usage"] == USAGE


def test_reply_text_is_configurable() -> None:
    with FakeResponsesAPI(valid_keys=[KEY], reply_text="pong") as server:
        events = post(server.provider_url()).events()
    assert events[1][1]["item"]["content"][0]["text"] == "pong"


@pytest.mark.parametrize(
    ("tool", "expected_item"),
    [
        (
            {"type": "function", "name": "shell"},
            {"type": "function_call", "name": "shell", "args": {"command": ["bash", "-lc", SLOW_SCRIPT]}},
        ),
        (
            {"type": "function", "name": "exec_command"},
            {"type": "function_call", "name": "exec_command", "args": {"cmd": SLOW_SCRIPT}},
        ),
        (
            {"type": "function", "name": "shell_command"},
            {"type": "function_call", "name": "shell_command", "args": {"command": SLOW_SCRIPT}},
        ),
        (
            {"type": "local_shell"},
            {"type": "local_shell_call", "name": "local_shell", "args": {"command": ["bash", "-lc", SLOW_SCRIPT]}},
        ),
    ],
)
def test_tool_calls_the_shell_tool_the_request_declares(
    api: FakeResponsesAPI, tool: dict[str, Any], expected_item: dict[str, Any]
) -> None:
    tools = [{"type": "function", "name": "update_plan"}, tool, {"type": "web_search"}]
    reply = post(api.provider_url("tool", "t1"), {"model": "gpt-fake", "input": [], "tools": tools})
    events = reply.events()
    assert [name for name, _ in events] == ["response.created", "response.output_item.done", "response.completed"]
    item = events[1][1]["item"]
    assert item["type"] == expected_item["type"]
    assert item["call_id"]
    if item["type"] == "function_call":
        assert item["name"] == expected_item["name"]
        assert json.loads(item["arguments"]) == expected_item["args"]
    else:
        assert item["action"] == {"type": "exec", **expected_item["args"]}
    assert events[2][1]["response"]["usage"]["total_tokens"] == 18
    (entry,) = api.journal("t1")
    assert entry["tool_called"] == expected_item["name"]
    assert entry["has_tool_output"] is False


def test_tool_follow_up_carrying_the_output_gets_the_reply(api: FakeResponsesAPI) -> None:
    body = dict(SHELL_BODY)
    body["input"] = [*SHELL_BODY["input"], {"type": "function_call_output", "call_id": "call_1", "output": "x"}]
    api.release("t2")  # codex printed the command's completion already
    events = post(api.provider_url("tool", "t2"), body).events()
    assert events[1][1]["item"]["type"] == "message"
    assert events[1][1]["item"]["content"][0]["text"] == "OK"
    (entry,) = api.journal("t2")
    assert entry["has_tool_output"] is True and entry["tool_called"] is None and entry["held_s"] < 1


def test_tool_follow_up_is_held_until_released_or_the_cap(api: FakeResponsesAPI,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.fakeapi import scenarios

    monkeypatch.setattr(scenarios, "TOOL_RELEASE_CAP_S", 0.4)
    body = dict(SHELL_BODY)
    body["input"] = [*SHELL_BODY["input"], {"type": "function_call_output", "call_id": "call_1", "output": "x"}]
    post(api.provider_url("tool", "held"), body).events()
    (entry,) = api.journal("held")
    assert 0.35 <= entry["held_s"] < 2


@pytest.mark.parametrize(("scenario", "first"), [("flaky-stream", 200), ("flaky-request", 500)])
def test_flaky_scenarios_fail_only_the_first_attempt(api: FakeResponsesAPI, scenario: str, first: int) -> None:
    first_reply = post(api.provider_url(scenario, "f"))
    second = post(api.provider_url(scenario, "f")).events()
    assert [e["type"] for _, e in second][-1] == "response.completed"
    attempts = [(e["attempt"], e["status"], e.get("completed")) for e in api.journal("f")]
    assert attempts[0][:2] == (1, first) and attempts[1] == (2, 200, True)
    if first == 200:  # the cut stream: the message arrived, response.completed never did
        assert [e["type"] for _, e in first_reply.events()] == ["response.created", "response.output_item.done"]
        assert attempts[0][2] is False


def test_tool_race_calls_the_tool_again_at_once_until_its_count(api: FakeResponsesAPI) -> None:
    from harness.fakeapi.scenarios import RACE_CALLS

    output = {"type": "function_call_output", "call_id": "c", "output": "x"}
    replies = []
    for answered in range(RACE_CALLS + 1):
        body = dict(SHELL_BODY)
        body["input"] = [*SHELL_BODY["input"], *[output] * answered]
        replies.append(post(api.provider_url("tool-race", "race"), body).events()[1][1]["item"]["type"])
    assert replies == ["function_call"] * RACE_CALLS + ["message"]
    assert all("held_s" not in e for e in api.journal("race"))  # never held: that is the race


def test_unknown_model_scenario_names_a_slug_no_catalog_has() -> None:
    from harness.fakeapi.scenarios import SCENARIOS, UNKNOWN_SLUG

    assert SCENARIOS["unknown-model"].model == UNKNOWN_SLUG and SCENARIOS["unknown-model"].succeeds
    assert all(s.model is None for name, s in SCENARIOS.items() if name != "unknown-model")


def test_tool_without_a_known_shell_tool_replies_and_journals_no_call(api: FakeResponsesAPI) -> None:
    body = {"model": "gpt-fake", "input": [], "tools": [{"type": "function", "name": "view_image"}]}
    events = post(api.provider_url("tool", "t3"), body).events()
    assert events[1][1]["item"]["type"] == "message"
    (entry,) = api.journal("t3")
    assert entry["tool_called"] is None and entry["tools"] == ["view_image"]


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("unauthorized", 401, "invalid_api_key"),
        ("server-error", 500, None),
        ("rate-limited", 429, "rate_limit_exceeded"),
    ],
)
def test_error_scenarios_answer_json_errors(
    api: FakeResponsesAPI, scenario: str, status: int, code: str | None
) -> None:
    reply = post(api.provider_url(scenario, "e"))
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert error["code"] == code and error["message"]
    if scenario == "rate-limited":
        assert reply.headers["retry-after"] == "1"
        assert reply.json() == {
            "error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}
        }
    assert api.journal("e")[0]["status"] == status


def test_disconnect_sends_created_then_closes_without_completed(api: FakeResponsesAPI) -> None:
    reply = post(api.provider_url("disconnect", "d"))
    assert reply.status == 200 and reply.headers["content-type"] == "text/event-stream"
    assert [name for name, _ in reply.events()] == ["response.created"]


# -- auth --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "unauthorized"])
def test_missing_or_wrong_key_is_refused_before_any_scenario_runs(api: FakeResponsesAPI, scenario: str) -> None:
    missing = post(api.provider_url(scenario, "a"), key=None)
    wrong = post(api.provider_url(scenario, "a"), key="sk-wrong")
    assert (missing.status, wrong.status) == (401, 401)
    assert missing.json()["error"]["code"] == "invalid_api_key"
    assert wrong.json() == {
        "error": {
            "message": "Incorrect API key provided",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    assert [(e["credential"], e["status"]) for e in api.journal("a")] == [("none", 401), ("invalid", 401)]


def test_unauthorized_refuses_even_a_valid_key(api: FakeResponsesAPI) -> None:
    assert post(api.provider_url("unauthorized", "u")).status == 401
    assert api.journal("u")[0]["credential"] == "valid"


def test_add_valid_key_takes_effect_for_later_requests(api: FakeResponsesAPI) -> None:
    assert post(api.provider_url("ok", "k"), key="sk-late").status == 401
    api.add_valid_key("sk-late")
    assert post(api.provider_url("ok", "k"), key="sk-late").status == 200
    with pytest.raises(ValueError):
        api.add_valid_key("")


# -- journal -----------------------------------------------------------------------------------------


def test_journal_entry_fields_and_no_raw_key(api: FakeResponsesAPI) -> None:
    headers = {"User-Agent": "codex_exec/9.9.9 (test)", "originator": "codex_exec"}
    before = datetime.now().astimezone()
    post(api.provider_url("tool", "j"), SHELL_BODY, headers=headers)
    (entry,) = api.journal("j")
    assert entry == {
        "tag": "j",
        "scenario": "tool",
        "method": "POST",
        "path": "/s/tool/j/v1/responses",
        "status": 200,
        "credential": "valid",
        "credential_sha256": hashlib.sha256(KEY.encode()).hexdigest()[:12],
        "model": "gpt-fake",
        "tools": ["shell", "web_search"],
        "has_tool_output": False,
        "tool_results": [],
        "tool_called": "shell",
        "user_agent": "codex_exec/9.9.9 (test)",
        "originator": "codex_exec",
        "time": entry["time"],
        "attempt": 1,
        "completed": True,
        "sent": {"response_id": entry["sent"]["response_id"], "usage": USAGE, "items": [{
            "type": "function_call", "id": entry["sent"]["items"][0]["id"], "name": "shell",
            "call_id": entry["sent"]["items"][0]["call_id"],
            "arguments": json.dumps({"command": ["bash", "-lc", SLOW_SCRIPT]})}]},
    }
    stamp = datetime.fromisoformat(entry["time"])
    assert stamp.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= stamp <= datetime.now().astimezone() + timedelta(seconds=1)
    post(api.provider_url("ok", "j"), key="sk-another-secret-key")
    dumped = json.dumps(api.journal())
    assert KEY not in dumped and "sk-another-secret-key" not in dumped
    assert KEY not in repr(api)


def test_journal_returns_copies(api: FakeResponsesAPI) -> None:
    post(api.provider_url("ok", "c"))
    api.journal("c")[0]["tools"].append("tampered")
    assert "tampered" not in api.journal("c")[0]["tools"]


def test_journal_filters_by_tag_and_keeps_arrival_order(api: FakeResponsesAPI) -> None:
    for tag, scenario in [("x", "ok"), ("y", "server-error"), ("x", "rate-limited")]:
        post(api.provider_url(scenario, tag))
    assert [e["status"] for e in api.journal("x")] == [200, 429]
    assert [e["status"] for e in api.journal("y")] == [500]
    assert [e["tag"] for e in api.journal()] == ["x", "y", "x"]
    assert api.journal("nobody") == []


@pytest.mark.parametrize(
    ("path", "method", "tag"),
    [
        ("/v1/responses", "POST", None),  # no /s/<scenario>/<tag> prefix
        ("/s/nonsense/z/v1/responses", "POST", "z"),  # unknown scenario
        ("/s/ok/z/v1/files", "GET", "z"),  # a path codex must not need
        ("/s/ok/z/backend-api/wham/unknown", "GET", "z"),  # a ChatGPT backend path the fake does not know
        ("/s/ok/z/v1/responses", "GET", "z"),  # websocket-style GET
    ],
)
def test_unknown_paths_are_404_and_journaled(api: FakeResponsesAPI, path: str, method: str, tag: str | None) -> None:
    reply = post(api.base_url, suffix=path, method=method)
    assert reply.status == 404 and "error" in reply.json()
    entry = api.journal()[-1]
    assert (entry["path"], entry["method"], entry["status"], entry["tag"]) == (path, method, 404, tag)


def test_chatgpt_login_calls_are_answered_and_journaled(api: FakeResponsesAPI) -> None:
    from harness.fakeapi.chatgpt import ACCESS_TOKEN, make_tokens

    entry = {"slug": "gpt-5.5", "display_name": "GPT-5.5"}
    api.set_models([entry])
    token = make_tokens()["access_token"]
    api.add_valid_key(token, kind=ACCESS_TOKEN)
    models = post(api.base_url, suffix="/s/ok/c/v1/models?client_version=0.169.0", method="GET", key=token)
    assert models.status == 200 and models.json() == {"models": [entry]}
    check = post(api.base_url, suffix="/s/ok/c/backend-api/wham/accounts/check", method="GET", key=token)
    assert check.json() == {"accounts": [], "account_ordering": []}
    refreshed = post(api.base_url, suffix="/s/ok/c/oauth/token", method="POST", key=None)
    assert set(refreshed.json()) == {"id_token", "access_token", "refresh_token"}
    turn = post(api.provider_url("ok", "c"), key=refreshed.json()["access_token"])
    assert turn.status == 200  # a refreshed token is accepted, as the real backend would
    calls = [(e.get("call"), e.get("credential"), e.get("credential_kind")) for e in api.journal("c")]
    assert calls == [("GET models", "valid", ACCESS_TOKEN),
                     ("GET backend-api/wham/accounts/check", "valid", ACCESS_TOKEN),
                     ("POST oauth/token", "none", None), (None, "valid", ACCESS_TOKEN)]
    assert token not in json.dumps(api.journal())


def test_concurrent_cells_with_different_scenarios(api: FakeResponsesAPI) -> None:
    plan = [(f"cell{i}", s) for i, s in enumerate(["ok", "tool", "server-error", "rate-limited", "disconnect"] * 4)]
    expected = {"ok": 200, "tool": 200, "server-error": 500, "rate-limited": 429, "disconnect": 200}
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda p: post(api.provider_url(p[1], p[0]), SHELL_BODY), plan))
    for (tag, scenario), reply in zip(plan, replies, strict=True):
        assert reply.status == expected[scenario], (tag, scenario)
        (entry,) = api.journal(tag)
        assert entry["scenario"] == scenario and entry["status"] == expected[scenario]
        if scenario == "tool":
            assert reply.events()[1][1]["item"]["name"] == "shell"
    assert len(api.journal()) == len(plan)


# -- lifecycle ---------------------------------------------------------------------------------------


def _open_hang(server: FakeResponsesAPI, tag: str) -> socket.socket:
    url = urlsplit(server.provider_url("hang", tag))
    body = b'{"model":"gpt-fake","input":[]}'
    sock = socket.create_connection((url.hostname or "", url.port or 0), timeout=5)
    sock.sendall(
        f"POST {url.path}/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    deadline = time.monotonic() + 5
    while not server.journal(tag) and time.monotonic() < deadline:
        time.sleep(0.01)
    return sock


def test_hang_answers_nothing_and_stop_returns_promptly() -> None:
    server = FakeResponsesAPI(valid_keys=[KEY]).start()
    sock = _open_hang(server, "h")
    sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        sock.recv(1)  # nothing is sent while the request hangs
    (entry,) = server.journal("h")
    assert entry["scenario"] == "hang" and entry["status"] is None
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    sock.settimeout(2)
    assert sock.recv(1) == b""  # the hanging handler woke up and closed the connection
    sock.close()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        server.start()


def _handler_threads() -> int:
    return sum("process_request_thread" in t.name for t in threading.enumerate())


def test_hang_handler_exits_when_the_client_gives_up(api: FakeResponsesAPI) -> None:
    baseline = _handler_threads()
    sock = _open_hang(api, "gone")
    assert _handler_threads() == baseline + 1
    sock.close()
    deadline = time.monotonic() + 2
    while _handler_threads() > baseline and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _handler_threads() == baseline


def test_urls_and_validation() -> None:
    server = FakeResponsesAPI(valid_keys=[KEY])
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        host, port = urlsplit(server.base_url).hostname, urlsplit(server.base_url).port
        assert host == "127.0.0.1" and port
        assert server.provider_url() == f"{server.base_url}/s/ok/default/v1"
        assert (
            server.provider_url("rate-limited", "v0.169.0-env") == f"{server.base_url}/s/rate-limited/v0.169.0-env/v1"
        )
        with pytest.raises(ValueError, match="unknown scenario"):
            server.provider_url("nope")
        for bad_tag in ["", "a/b", "../x", "sp ace"]:
            with pytest.raises(ValueError, match="invalid tag"):
                server.provider_url("ok", bad_tag)
    with pytest.raises(TypeError):
        FakeResponsesAPI(valid_keys=KEY)


# -- codex config ------------------------------------------------------------------------------------


def test_write_codex_config_is_the_one_config_for_every_build(tmp_path: Path) -> None:
    home = tmp_path / "nested" / "codex-home"
    path = write_codex_config(home, "http://127.0.0.1:4242/s/ok/c1/v1", model="gpt-5.5")
    assert path == home / "config.toml"
    text = path.read_text()
    config = tomllib.loads(text)
    assert config["model"] == "gpt-5.5" and config["model_provider"] == "fake"
    assert text.index("model_provider") < text.index("[")  # root keys before the first table
    assert config["model_providers"] == {
        "fake": {
            "name": "fake",
            "base_url": "http://127.0.0.1:4242/s/ok/c1/v1",
            "wire_api": "responses",
            "requires_openai_auth": True,
            "request_max_retries": 1,
            "stream_max_retries": 1,
            "stream_idle_timeout_ms": 1000,
        }
    }
    assert "env_key" not in text
    assert config["features"] == {"plugins": False, "unbounded_connection_retries": False, "apps": False,
                                  "remote_models": False}
    assert config["chatgpt_base_url"] == "http://127.0.0.1:4242/s/ok/c1/backend-api/"
    assert config["openai_base_url"] == "http://127.0.0.1:4242/s/ok/c1/v1"
    assert config["analytics"] == {"enabled": False}
    assert config["otel"] == {"metrics_exporter": "none"}


def test_without_a_model_the_build_keeps_its_default(tmp_path: Path) -> None:
    config = tomllib.loads(write_codex_config(tmp_path, "http://h/v1").read_text())
    assert "model" not in config and config["model_provider"] == "fake"


def test_write_codex_config_quotes_strings(tmp_path: Path) -> None:
    odd_model = 'gpt "fake" \\ \u00e9\U0001f600\n'
    config = tomllib.loads(write_codex_config(tmp_path, "http://h/v1", model=odd_model).read_text())
    assert config["model"] == odd_model
    with pytest.raises(ValueError):
        write_codex_config(tmp_path, "127.0.0.1:1/v1")


# -- command line ------------------------------------------------------------------------------------


def test_module_cli_serves_until_sigterm_and_never_prints_the_key() -> None:
    env = {**os.environ, "FAKEAPI_TEST_KEY": KEY, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.fakeapi", "--valid-key-env", "FAKEAPI_TEST_KEY", "--reply", "hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        base_url = banner.split(" on ", 1)[1].split(";", 1)[0]
        assert "/s/<scenario>/<tag>/v1" in banner and KEY not in banner
        events = post(f"{base_url}/s/ok/cli/v1").events()
        assert events[1][1]["item"]["content"][0]["text"] == "hi"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0
    assert KEY not in out + err


def test_module_cli_refuses_an_unset_key_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FAKEAPI_UNSET"}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "harness.fakeapi", "--valid-key-env", "FAKEAPI_UNSET"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=10,
    )
    assert result.returncode == 2 and "FAKEAPI_UNSET" in result.stderr


def test_a_build_before_0_20_runs_its_builtin_openai_provider(tmp_path: Path) -> None:
    """0.8.0 gives a custom provider no credential (no requires_openai_auth): its own credential logic
    runs only on the built-in provider, which the run points at the fake with OPENAI_BASE_URL."""
    import tomllib

    from harness.fakeapi.codex_config import provider_env, render_codex_config

    url = "http://127.0.0.1:9/s/ok/t/v1"
    old = tomllib.loads(render_codex_config(url, model="codex-mini-latest", version=(0, 8, 0)))
    assert "model_provider" not in old and "model_providers" not in old
    assert old["model"] == "codex-mini-latest" and old["features"]["apps"] is False
    assert provider_env(url, (0, 8, 0)) == {"OPENAI_BASE_URL": url}
    for version in ((0, 20, 0), (0, 169, 0), None):
        new = tomllib.loads(render_codex_config(url, version=version))
        assert new["model_provider"] == "fake"
        assert new["model_providers"]["fake"]["base_url"] == url
        assert provider_env(url, version) == {}


def test_tool_race_counts_the_calls_of_a_stored_conversation(api: FakeResponsesAPI) -> None:
    """0.8.0 sends ``store: true`` and only the newest tool result with ``previous_response_id`` (seen on
    0.8.0 against this fake): the fake must count the stored conversation's results, as the real API
    keeps them, or it calls the tool forever (1,859 requests in 11 s before)."""
    from harness.fakeapi.scenarios import RACE_CALLS

    output = {"type": "function_call_output", "call_id": "c", "output": "x"}
    replies, previous = [], None
    for _ in range(RACE_CALLS + 1):
        body = dict(SHELL_BODY, store=True)
        if previous is not None:
            body["input"], body["previous_response_id"] = [output], previous
        events = [e for _, e in post(api.provider_url("tool-race", "stored"), body).events()]
        previous = events[0]["response"]["id"]
        replies.append(events[1]["item"]["type"])
    assert replies == ["function_call"] * RACE_CALLS + ["message"]


def test_race_follow_up_journals_when_the_command_ended_and_how_late_the_answer_left(api: FakeResponsesAPI) -> None:
    """tool-race's world is 'answered at once': the command prints its end time, the fake journals it."""
    ended = time.time() - 0.02
    body = dict(SHELL_BODY)
    output = f"Process exited with code 0\nOutput:\nmatrix-tool-ok {ended:.6f}\n"
    body["input"] = [*SHELL_BODY["input"], {"type": "function_call_output", "call_id": "c", "output": output}]
    post(api.provider_url("tool-race", "t9"), body).events()
    (entry,) = api.journal("t9")
    assert entry["command_ended_at"] == pytest.approx(ended, abs=1e-5)
    assert 0.02 <= entry["answer_lag_s"] < 1.0


def test_race_world_holds_only_when_the_turn_ended_within_the_trailing_grace() -> None:
    race = SCENARIOS["tool-race"]
    journal = [{"tool_called": "exec_command"}, {"has_tool_output": True, "command_ended_at": 1000.0}]
    assert race.world_held(journal, 1000.03)
    assert not race.world_held(journal, 1000.0 + race.turn_within_s + 0.01)
    assert race.turn_after_command_s(journal, 1000.25) == 0.25
    assert race.world_held(journal, None)  # no turn end seen: nothing to judge the timing by
    assert SCENARIOS["tool"].world_held(journal, 1005.0)  # a held answer has no timing to keep


def test_retry_after_tool_cuts_the_first_follow_up_and_journals_what_completed(api: FakeResponsesAPI) -> None:
    """Reasoning + preamble + tool call; the follow-up's first stream is cut after reasoning and message;
    the retry completes with other reasoning and another reply: the journal tells the three apart."""
    from harness.fakeapi.scenarios import CUT_TEXT, FINAL_TEXT, PREAMBLE_TEXT, THOUGHTS
    from harness.suite.oracle import sent_reply, sent_texts

    url = api.provider_url("retry-after-tool", "r")
    first = [e["item"]["type"] for _, e in post(url, SHELL_BODY).events() if "item" in e]
    assert first == ["reasoning", "message", "function_call"]
    body = dict(SHELL_BODY)
    body["input"] = [*SHELL_BODY["input"], {"type": "function_call_output", "call_id": "call_1", "output": "x"}]
    api.release("r")
    cut = [name for name, _ in post(url, body).events()]
    assert cut == ["response.created", "response.output_item.done", "response.output_item.done"]
    post(url, body).events()
    turns = api.journal("r")
    assert [(e["attempt"], e["completed"]) for e in turns] == [(1, True), (2, False), (3, True)]
    assert [i["text"] for i in turns[1]["sent"]["items"]] == [THOUGHTS[1], CUT_TEXT]
    assert sent_texts(turns) == [PREAMBLE_TEXT, FINAL_TEXT] and sent_reply(turns) == FINAL_TEXT
    assert sent_texts(turns, "reasoning") == [THOUGHTS[0], THOUGHTS[2]]
