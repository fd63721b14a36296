"""A real OpenID Connect provider for the SSO tests: npm's oidc-provider (tests/oidc_provider,
installed by `scripts/install --test`) run by node on 127.0.0.1, behind a small pass-through
proxy on its issuer address. The proxy is how a test plays a provider (or a network) that
misbehaves: it can change the ID token in the token response, breaking its signature or
re-signing it with changed claims (the test made the provider's signing key, so it can), to
prove Handover refuses each. Skips with the reason when node or the package is missing."""

import http.client
import http.server
import json
import re
import secrets
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests
from support import free_port

FOLDER = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "handover-test"
PASSWORD = "provider-password-" + "x7"
OTP = "246810"


def _signing_key():
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, parameters={"kid": "test-" + secrets.token_hex(4),
                                                "alg": "RS256", "use": "sig"})
    return key


class Proxy:
    """Passes every request on to the provider; ``mode`` changes the next token responses."""

    def __init__(self, upstream_port, signing_key):
        self.upstream_port, self.key = upstream_port, signing_key
        self.mode = None
        self.port = free_port()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                connection = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port,
                                                        timeout=30)
                headers = {key: value for key, value in self.headers.items()
                           if key.lower() not in ("connection", "accept-encoding")}
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                except OSError:  # the provider is not up yet, or gone
                    self.send_error(502)
                    return
                finally:
                    connection.close()
                if self.path.startswith("/token") and answer.status == 200 and proxy.mode:
                    payload = proxy.rewrite(payload)
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                           "keep-alive"):
                        self.send_header(key, value)
                self.send_header("Connection", "close")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rewrite(self, payload):
        from joserfc import jwt

        answer = json.loads(payload)
        id_token = answer["id_token"]
        if self.mode == "tamper":
            header, claims, signature = id_token.split(".")
            decoded = json.loads(_b64decode(claims))
            decoded["sub"] = "someone-else"
            answer["id_token"] = ".".join([header, _b64encode(json.dumps(decoded)), signature])
        else:
            token = jwt.decode(id_token, self.key)
            claims = dict(token.claims)
            if self.mode == "nonce":
                claims["nonce"] = "not-the-nonce-handover-sent"
            elif self.mode == "issuer":
                claims["iss"] = "http://127.0.0.1:9/another-provider"
            elif self.mode == "audience":
                claims["aud"] = "another-client"
            elif self.mode == "expired":
                claims["iat"] = int(time.time()) - 3600
                claims["exp"] = int(time.time()) - 1800
            answer["id_token"] = jwt.encode(dict(token.header), claims, self.key)
        return json.dumps(answer).encode()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _b64decode(text):
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(text):
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


class OidcProvider:
    """The running provider: ``issuer`` (the proxy's address), its accounts (editable with
    `set_account` / `remove_account`), and `sign_in`, which walks its login page as a browser
    would, starting from Handover's redirect."""

    def __init__(self, folder, redirect_uris, post_logout_redirect_uris):
        if shutil.which("node") is None:
            pytest.skip("node is not installed: the SSO tests run npm's oidc-provider")
        if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            pytest.skip("tests/oidc_provider/node_modules is missing: run scripts/install --test")
        self.key = _signing_key()
        self.port = free_port()
        self.proxy = Proxy(self.port, self.key)
        self.issuer = f"http://127.0.0.1:{self.proxy.port}"
        self.client_secret = secrets.token_urlsafe(24)
        self.settings_path = Path(folder) / "provider.json"
        self.settings = {
            "issuer": self.issuer, "port": self.port,
            "client": {"client_id": CLIENT_ID, "client_secret": self.client_secret,
                       "redirect_uris": list(redirect_uris),
                       "post_logout_redirect_uris": list(post_logout_redirect_uris)},
            "jwks": {"keys": [self.key.as_dict(private=True)]},
            "accounts": {},
        }
        self._write()
        self.log = open(Path(folder) / "provider.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(["node", str(FOLDER / "server.mjs"),
                                         str(self.settings_path)], cwd=FOLDER,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with requests.get(self.issuer + "/.well-known/openid-configuration",
                                  timeout=2) as answer:
                    if answer.status_code == 200:
                        break
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        else:
            self.close()
            raise RuntimeError("the OIDC provider did not start")
        if self.process.poll() is not None:
            raise RuntimeError("the OIDC provider exited: "
                               + (Path(folder) / "provider.log").read_text())

    def _write(self):
        self.settings_path.write_text(json.dumps(self.settings))

    def set_account(self, login, *, otp=None, **claims):
        self.settings["accounts"][login] = {"password": PASSWORD, "otp": otp,
                                            "claims": {"sub": f"sub-{login}", **claims}}
        self._write()
        return f"sub-{login}"

    def remove_account(self, login):
        self.settings["accounts"].pop(login, None)
        self._write()

    def config(self, **changes):
        """Handover's settings for this provider."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": self.client_secret, **changes}

    def sign_in(self, authorize_url, login, *, password=PASSWORD, otp=""):
        """Follow Handover's redirect to the provider, sign in on its page; returns the URL
        the provider sends the browser back to (Handover's callback with code and state)."""
        with requests.Session() as browser:
            return self._walk(browser, authorize_url, login, password, otp)

    def _walk(self, browser, authorize_url, login, password, otp):
        url = authorize_url
        for _step in range(10):
            answer = browser.get(url, allow_redirects=False, timeout=10)
            if answer.status_code in (302, 303):
                url = urllib.parse.urljoin(url, answer.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            action = re.search(r'action="([^"]+)"', answer.text)
            assert action, answer.text[:500]
            answer = browser.post(urllib.parse.urljoin(url, action.group(1)),
                                  data={"login": login, "password": password, "otp": otp},
                                  allow_redirects=False, timeout=10)
            if answer.status_code not in (302, 303):
                return answer  # the provider refused (its page says why)
            url = urllib.parse.urljoin(url, answer.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider's sign-in did not come back")

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        self.proxy.close()


# -- Fixtures a test module of signing in through the provider takes over by assignment
#    (``app_config = oidc_support.app_config``); each needs a ``provider`` fixture. ------------

@pytest.fixture
def app_config(app_config, provider):
    """The app configured for ``provider``, the proxy in front of it passing everything on."""
    provider.proxy.mode = None
    return {**app_config, **provider.config(), "BASE_URL": "http://localhost"}


@pytest.fixture
def client(app):
    """The browser of the person signing in, reading English (the tests read English texts)."""
    browser = app.test_client()
    with browser.session_transaction() as cookie:
        cookie["language"] = "en"
    return browser
