"""The fake world's auth.openai.com: TLS with its own CA, each refresh routed to its cell's fake API route."""

from __future__ import annotations

import http.client
import json
import ssl

import pytest

from harness.fakeapi import FakeResponsesAPI
from harness.fakeapi.authhost import CA_FILE, HOST, AuthHost, refresh_token_of


def post(port: int, body: dict[str, str]) -> tuple[int, dict[str, object]]:
    """What a build does: TLS to auth.openai.com (here 127.0.0.1:port), trusting only SSL_CERT_FILE's CA."""
    context = ssl.create_default_context(cafile=str(CA_FILE))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    conn.sock = context.wrap_socket(__import__("socket").create_connection(("127.0.0.1", port)), server_hostname=HOST)
    conn.request("POST", "/oauth/token", json.dumps(body), {"Content-Type": "application/json"})
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read() or b"{}")


def test_a_refresh_reaches_the_cells_fake_api_and_its_renewal_is_routed_too() -> None:
    with FakeResponsesAPI(valid_keys=["sk-unit-0123456789"]) as api:
        assert api.serve_auth_host(port=0) is None
        host = api._auth_host
        assert host is not None
        root = api.provider_url("unauthorized", "cell-1").removesuffix("/v1")
        api.route_refresh("rt_first", root)
        status, tokens = post(host.port, {"grant_type": "refresh_token", "refresh_token": "rt_first",
                                          "client_id": "app_x"})
        assert status == 200 and {"id_token", "access_token", "refresh_token"} <= set(tokens)
        assert [e.get("call") for e in api.journal("cell-1")] == ["POST oauth/token via auth.openai.com"]
        status, _ = post(host.port, {"grant_type": "refresh_token", "refresh_token": str(tokens["refresh_token"])})
        assert status == 200 and len(api.journal("cell-1")) == 2  # the renewed token finds its cell too
        status, _ = post(host.port, {"grant_type": "refresh_token", "refresh_token": "rt_nobody"})
        assert status == 401


def test_the_certificate_is_for_auth_openai_com_only() -> None:
    host = AuthHost(port=0).start()
    try:
        context = ssl.create_default_context(cafile=str(CA_FILE))
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(__import__("socket").create_connection(("127.0.0.1", host.port)),
                                server_hostname="chatgpt.com")
    finally:
        host.stop()


def test_a_port_it_cannot_bind_is_a_reason_not_a_crash() -> None:
    first = AuthHost(port=0).start()
    try:
        second = AuthHost(port=first.port).start()
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
