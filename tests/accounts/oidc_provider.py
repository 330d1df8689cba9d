"""A tiny OpenID Connect provider: a real HTTP server on 127.0.0.1 for the SSO tests.

It serves discovery, an authorization endpoint that signs in whoever the test says is at the
browser (`provider.identity`), a token endpoint that checks the client secret, the redirect
URI and the PKCE verifier, a userinfo endpoint and a JWKS. Only what the login flow needs; every
check a real provider makes on the client is made here too, so a broken client fails the test.
"""

import base64
import contextlib
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

CLIENT_ID = "rapport-test-client"
CLIENT_SECRET = "rapport-test-secret-0123456789abcdef0123456789"


@dataclass
class FakeProvider:
    server: ThreadingHTTPServer
    # Who "is logged in at the identity provider": the claims the next login gets.
    identity: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def discovery(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def id_token(self, claims: dict, nonce: str | None) -> str:
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        if nonce:
            payload["nonce"] = nonce
        return jwt.encode(payload, CLIENT_SECRET, algorithm="HS256")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _handler(provider_ref):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            provider = provider_ref[0]
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                return self._json(200, provider.discovery())
            if parts.path == "/jwks":
                return self._json(200, {"keys": []})
            if parts.path == "/authorize":
                if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                    return self._json(400, {"error": "invalid_request"})
                if "openid" not in query.get("scope", "").split():
                    return self._json(400, {"error": "invalid_scope"})
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {
                    "redirect_uri": query["redirect_uri"],
                    "challenge": query.get("code_challenge"),
                    "nonce": query.get("nonce"),
                    "claims": dict(provider.identity),
                }
                location = (
                    query["redirect_uri"]
                    + "?"
                    + urlencode({"code": code, "state": query.get("state", "")})
                )
                self.send_response(302)
                self.send_header("Location", location)
                self.end_headers()
                return None
            if parts.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                claims = provider.tokens.get(token)
                if claims is None:
                    return self._json(401, {"error": "invalid_token"})
                return self._json(200, claims)
            return self._json(404, {"error": "not_found"})

        def do_POST(self):
            provider = provider_ref[0]
            if urlsplit(self.path).path != "/token":
                return self._json(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self._json(401, {"error": "invalid_client"})
            grant = provider.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                return self._json(400, {"error": "invalid_grant"})
            if grant["challenge"] and _s256(form.get("code_verifier", "")) != grant["challenge"]:
                return self._json(400, {"error": "invalid_grant", "detail": "PKCE"})
            access_token = secrets.token_urlsafe(24)
            provider.tokens[access_token] = grant["claims"]
            return self._json(
                200,
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider.id_token(grant["claims"], grant["nonce"]),
                },
            )

    return Handler


@contextlib.contextmanager
def running_provider():
    ref = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    provider = FakeProvider(server=server)
    ref.append(provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.stop()
        thread.join(timeout=5)
