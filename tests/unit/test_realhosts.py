"""The fake world's auth.openai.com and chatgpt.com: TLS with its own CA, each call routed to its cell's fake API."""

from __future__ import annotations

import http.client
import json
import socket
import ssl

import pytest

from harness.fakeapi import FakeResponsesAPI
from harness.fakeapi.realhosts import AUTH_HOST, CA_FILE, CHATGPT_HOST, RealHosts, refresh_token_of


def call(port: int, host: str, method: str, path: str, body: dict[str, str] | None = None,
         bearer: str | None = None) -> tuple[int, dict[str, object]]:
    """What a build does: TLS to the real host (here 127.0.0.1:port), trusting only SSL_CERT_FILE's CA."""
    context = ssl.create_default_context(cafile=str(CA_FILE))
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=host)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {bearer}"} if bearer else {})}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read() or b"{}")


def post(port: int, body: dict[str, str]) -> tuple[int, dict[str, object]]:
    return call(port, AUTH_HOST, "POST", "/oauth/token", body)


def test_a_refresh_reaches_the_cells_fake_api_and_its_renewal_is_routed_too() -> None:
    with FakeResponsesAPI(valid_keys=["sk-unit-0123456789"]) as api:
        assert api.serve_real_hosts(port=0) is None
        host = api._real_hosts
        assert host is not None
        root = api.provider_url("unauthorized", "cell-1").removesuffix("/v1")
        api.route_token("rt_first", root)
        status, tokens = post(host.port, {"grant_type": "refresh_token", "refresh_token": "rt_first",
                                          "client_id": "app_x"})
        assert status == 200 and {"id_token", "access_token", "refresh_token"} <= set(tokens)
        assert [e.get("call") for e in api.journal("cell-1")] == ["POST oauth/token via auth.openai.com"]
        status, _ = post(host.port, {"grant_type": "refresh_token", "refresh_token": str(tokens["refresh_token"])})
        assert status == 200 and len(api.journal("cell-1")) == 2  # the renewed token finds its cell too
        status, _ = post(host.port, {"grant_type": "refresh_token", "refresh_token": "rt_nobody"})
        assert status == 401


def test_the_certificate_is_for_the_two_hosts_only() -> None:
    host = RealHosts(port=0).start()
    try:
        context = ssl.create_default_context(cafile=str(CA_FILE))
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(socket.create_connection(("127.0.0.1", host.port)), server_hostname="openai.com")
    finally:
        host.stop()


def test_a_port_it_cannot_bind_is_a_reason_not_a_crash() -> None:
    first = RealHosts(port=0).start()
    try:
        second = RealHosts(port=first.port).start()
        assert second.problem is not None and "auth.openai.com" in second.problem
    finally:
        first.stop()


@pytest.mark.parametrize(("body", "kind", "token"), [
    (b'{"client_id":"x","grant_type":"refresh_token","refresh_token":"rt_a"}', "application/json", "rt_a"),
    (b"grant_type=refresh_token&refresh_token=rt_b", "application/x-www-form-urlencoded", "rt_b"),
    (b"{broken", "application/json", None),
])
def test_the_refresh_token_is_read_from_json_or_a_form(body: bytes, kind: str, token: str | None) -> None:
    assert refresh_token_of(body, kind) == token


def test_a_model_list_asked_of_chatgpt_com_is_the_cells_catalog() -> None:
    """0.104-0.110 fetch /backend-api/codex/models from chatgpt.com with the login's access token."""
    with FakeResponsesAPI(valid_keys=["sk-unit-0123456789"]) as api:
        assert api.serve_real_hosts(port=0) is None
        assert api._real_hosts is not None
        api.set_models([{"slug": "gpt-unit"}])
        root = api.provider_url("ok", "cell-2").removesuffix("/v1")
        api.route_token("at_cell2", root)
        status, body = call(api._real_hosts.port, CHATGPT_HOST, "GET",
                            "/backend-api/codex/models?client_version=0.105.0", bearer="at_cell2")
        assert status == 200 and body == {"models": [{"slug": "gpt-unit"}]}
        assert [e.get("call") for e in api.journal("cell-2")] == ["GET models via chatgpt.com"]
        assert call(api._real_hosts.port, CHATGPT_HOST, "GET", "/backend-api/codex/models", bearer="at_x")[0] == 401
