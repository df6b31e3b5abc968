"""The ChatGPT-login side of the fake world: the tokens ``codex login`` stores, and what ChatGPT's
backend answers a build that is logged in that way.

Tokens are unsigned but JWT-shaped with the claims codex parses (``codex-rs/login/src/token_data.rs``:
the id token's email, plan, user and account ids; the access token's ``exp``), base64url without
padding, three non-empty segments: every build 0.20–0.169 accepts them (measured, and ``codex login
status`` says "Logged in using ChatGPT"). The refresh token is opaque.

Under ChatGPT auth builds make calls beyond ``POST /responses`` (measured on 0.20.0–0.169.0): 0.117+
refresh the model catalog (``GET {base}/models``, 0.117 through ``openai_base_url``), 0.169 asks
``/backend-api/wham/accounts/check`` and ``/wham/settings/user``, 0.117–0.169 start an apps MCP client
(switched off by ``features.apps = false``), 0.98 refreshes models from chatgpt.com (off by
``features.remote_models = false``), and 0.80+ refresh an old token at the URL in
``CODEX_REFRESH_TOKEN_URL_OVERRIDE``. The config routes everything that has a setting to this fake
(``chatgpt_base_url``, ``openai_base_url``), which answers as below and journals each call.

Standard library only.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

#: codex's public OAuth client id (present in every binary).
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
#: The kind of credential an access token is, as the journal records it (never the value).
ACCESS_TOKEN = "chatgpt-access-token"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(payload: dict[str, Any]) -> str:
    header = {"alg": "RS256", "kid": "fake-kid-1", "typ": "JWT"}
    return ".".join([_b64u(json.dumps(header, separators=(",", ":")).encode()),
                     _b64u(json.dumps(payload, separators=(",", ":")).encode()),
                     _b64u(secrets.token_bytes(256))])  # signature-shaped, never verifiable


def make_tokens(*, valid_for: timedelta = timedelta(days=10), email: str = "matrix-user@example.com") -> dict[str, str]:
    """``tokens`` as ``codex login`` stores them: id token, access token, refresh token, account id."""
    now = datetime.now(UTC)
    iat, exp = int(now.timestamp()), int((now + valid_for).timestamp())
    account_id = str(uuid.uuid4())
    user_id = "user-" + secrets.token_hex(12)
    sub = "auth0|" + secrets.token_hex(12)
    auth = {"chatgpt_account_id": account_id, "chatgpt_plan_type": "plus", "chatgpt_user_id": user_id,
            "user_id": user_id, "organizations": [{"id": "org-" + secrets.token_hex(12), "is_default": True,
                                                  "role": "owner", "title": "Personal"}]}
    profile = {"email": email, "email_verified": True}
    common = {"iss": "https://auth.openai.com", "sub": sub, "iat": iat, "exp": exp,
              "https://api.openai.com/auth": auth, "https://api.openai.com/profile": profile}
    id_token = _jwt({**common, "aud": [CLIENT_ID], "email": email, "email_verified": True, "auth_time": iat})
    access_token = _jwt({**common, "aud": ["https://api.openai.com/v1"], "client_id": CLIENT_ID, "nbf": iat,
                         "scp": ["openid", "profile", "email", "offline_access"]})
    return {"id_token": id_token, "access_token": access_token,
            "refresh_token": "rt_" + secrets.token_urlsafe(48), "account_id": account_id}


def auth_json(tokens: dict[str, str], *, refreshed_ago: timedelta = timedelta(minutes=5)) -> dict[str, Any]:
    """The whole auth.json of a ChatGPT login. A recent ``last_refresh`` and an unexpired access token
    mean no build refreshes at start (0.20/0.44 refresh after 28 days, 0.80/0.98 after 8, 0.117+ once
    the access token's ``exp`` has passed)."""
    last = (datetime.now(UTC) - refreshed_ago).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"auth_mode": "chatgpt", "OPENAI_API_KEY": None, "tokens": dict(tokens), "last_refresh": last}


#: ChatGPT backend paths (below ``chatgpt_base_url``) and what the fake answers; anything else is 404.
BACKEND_ANSWERS: dict[str, dict[str, Any]] = {
    "wham/accounts/check": {"accounts": [], "account_ordering": []},
    "wham/settings/user": {"commit_attribution_enabled": False},
}
