#!/usr/bin/env python3
"""Differential test: the same requests to the reference simplejwt server and to
our example server, answers compared (status, JSON body with tokens reduced to
their shape, and the WWW-Authenticate / Allow / Content-Type headers).

Usage: differential.py OUR_SERVER_BINARY SHARED_DIR
Fails (exit 1) on any difference not marked as ours in CONTRACT.md, and when
either server cannot be started.
"""
import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

SECRET = "differential-secret-key-0123456789"
JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process, name, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{name} did not listen on {port} within {seconds}s")


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = dict(headers or {})
    if isinstance(body, (dict, list)) or body is None and method == "POST":
        payload = json.dumps(body if body is not None else {})
        headers.setdefault("Content-Type", "application/json")
    else:
        payload = body
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = {"<not json>": raw.decode("latin-1")[:200]}
    kept = {k.lower(): v for k, v in response.getheaders() if k.lower() in ("www-authenticate", "allow", "content-type", "retry-after")}
    if "allow" in kept:
        # The reference lists a view's methods from a set, in no fixed order.
        kept["allow"] = ", ".join(sorted(kept["allow"].split(", ")))
    return response.status, shape(parsed), kept


def shape(value):
    """Tokens become '<jwt>'; parse error tails are the parser's own and differ by design."""
    if isinstance(value, dict):
        out = {k: shape(v) for k, v in value.items()}
        detail = out.get("detail")
        if isinstance(detail, str) and detail.startswith("JSON parse error - "):
            out["detail"] = "JSON parse error - <parser message>"
        return out
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, str) and JWT.match(value):
        return "<jwt>"
    return value


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(claims, secret=SECRET, header=None):
    import hashlib
    import hmac
    header = header or {"alg": "HS256", "typ": "JWT"}
    message = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return message + "." + b64(signature)


MISSING = object()


def claims(kind, **changes):
    """Valid claims for user 1; a change to MISSING removes the claim."""
    now = int(time.time())
    body = {"token_type": kind, "exp": now + 3600, "iat": now, "jti": os.urandom(16).hex(), "user_id": "1"}
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def main():
    ours_binary, shared = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="differential-")
    env = dict(os.environ, REFERENCE_SIGNING_KEY=SECRET, REFERENCE_DB=os.path.join(work, "reference.sqlite3"))
    reference_port, our_port = free_port(), free_port()
    processes = []
    try:
        reference = subprocess.Popen([os.path.join(shared, "reference", "serve.sh"), str(reference_port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "reference.log"), "w"))
        processes.append(reference)
        for name, password, extra in (("alice", "wonderland-42", []), ("bob", "builder-42", ["--inactive"])):
            subprocess.run([ours_binary, "createuser", name, "--password", password, *extra], cwd=work, check=True,
                           stdout=subprocess.DEVNULL)
        ours = subprocess.Popen([ours_binary, "--listen", f"127.0.0.1:{our_port}"], cwd=work,
                                env=dict(os.environ, TOWER_JWT_SECRET=SECRET, RUST_LOG="warn"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(ours)
        wait_for(our_port, ours, "our server", 60)
        wait_for(reference_port, reference, "the reference server")
        return compare(reference_port, our_port)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def compare(reference_port, our_port):
    failures, count = [], 0

    def both(label, method, path, body=None, headers=None, token_source=None):
        nonlocal count
        count += 1
        answers = []
        for port in (reference_port, our_port):
            actual_body = body(port) if callable(body) else body
            actual_headers = headers(port) if callable(headers) else headers
            answers.append(request(port, method, path, actual_body, actual_headers))
        if answers[0] != answers[1]:
            failures.append(f"{label}:\n  reference: {answers[0]}\n  ours:      {answers[1]}")

    def login(port, username="alice", password="wonderland-42"):
        status, _, _ = None, None, None
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/api/token/", body=json.dumps({"username": username, "password": password}),
                           headers={"Content-Type": "application/json"})
        data = json.loads(connection.getresponse().read())
        connection.close()
        return data

    pairs = {port: login(port) for port in (reference_port, our_port)}

    for path in ("/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/"):
        count += 1
        answers = [request(port, "OPTIONS", path, "") for port in (reference_port, our_port)]
        answers[0][1]["parses"].remove("multipart/form-data")
        if answers[0] != answers[1]:
            failures.append(f"OPTIONS {path}:\n  reference: {answers[0]}\n  ours:      {answers[1]}")

    def fresh_refresh(port):
        return login(port)["refresh"]

    # POST /api/token/
    both("obtain: right credentials", "POST", "/api/token/", {"username": "alice", "password": "wonderland-42"})
    for label, body in [
        ("wrong password", {"username": "alice", "password": "nope"}),
        ("unknown user", {"username": "nobody", "password": "nope"}),
        ("inactive user", {"username": "bob", "password": "builder-42"}),
        ("missing password", {"username": "alice"}),
        ("missing both", {}),
        ("blank", {"username": "", "password": "x"}),
        ("whitespace", {"username": "   ", "password": "x"}),
        ("null", {"username": "alice", "password": None}),
        ("number", {"username": "alice", "password": 12}),
        ("float", {"username": 1.0, "password": 1e5}),
        ("bool", {"username": True, "password": "x"}),
        ("list", {"username": ["alice"], "password": {"a": 1}}),
        ("extra fields", {"username": "alice", "password": "wonderland-42", "extra": 1}),
        ("padded", {"username": " alice ", "password": " wonderland-42 "}),
    ]:
        both(f"obtain: {label}", "POST", "/api/token/", body)
    for label, raw, content_type in [
        ("not JSON", "{bad", "application/json"),
        ("a list", "[1]", "application/json"),
        ("null", "null", "application/json"),
        ("a string", '"x"', "application/json"),
        ("an int", "1", "application/json"),
        ("a float", "1.5", "application/json"),
        ("text/plain", "x", "text/plain"),
        ("empty text/plain", "", "text/plain"),
        ("charset", '{"username":"alice","password":"x"}', "application/json; charset=utf-8"),
        ("upper case type", '{"username":"alice","password":"x"}', "Application/JSON"),
        ("vendor json", '{"username":"alice","password":"x"}', "application/vnd.api+json"),
        ("form", "username=alice&password=wonderland-42", "application/x-www-form-urlencoded"),
    ]:
        both(f"obtain body: {label}", "POST", "/api/token/", raw, {"Content-Type": content_type})
    # OPTIONS is compared apart: ours does not list multipart/form-data, which it does not parse.
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        both(f"obtain: {method}", method, "/api/token/", "" if method != "GET" else None)

    # POST /api/token/refresh/
    both("refresh: valid", "POST", "/api/token/refresh/", lambda port: {"refresh": fresh_refresh(port)})

    def used_refresh(port):
        token = fresh_refresh(port)
        request(port, "POST", "/api/token/refresh/", {"refresh": token})
        return {"refresh": token}

    both("refresh: the same token again", "POST", "/api/token/refresh/", used_refresh)
    both("refresh: access token", "POST", "/api/token/refresh/", lambda port: {"refresh": pairs[port]["access"]})
    both("refresh: expired", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", exp=1000, iat=900))})
    both("refresh: bad signature", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh"), secret="other")})
    both("refresh: alg none", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh"), header={"alg": "none"}).rsplit(".", 1)[0] + "."})
    both("refresh: HS512 header", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh"), header={"alg": "HS512", "typ": "JWT"})})
    both("refresh: garbage", "POST", "/api/token/refresh/", {"refresh": "garbage"})
    # RFC 7515 §4.1.11: an unknown critical extension is refused, well signed or not (issue 17).
    crit = {"alg": "HS256", "typ": "JWT", "crit": ["x-unknown"], "x-unknown": True}
    both("refresh: crit", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh"), header=crit)})
    both("verify: crit", "POST", "/api/token/verify/", {"token": forge(claims("access"), header=crit)})
    both("me: crit", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access"), header=crit)})
    both("verify: malformed crit", "POST", "/api/token/verify/",
         {"token": forge(claims("access"), header={"alg": "HS256", "typ": "JWT", "crit": "x-unknown"})})
    both("verify: kid not a string", "POST", "/api/token/verify/",
         {"token": forge(claims("access"), header={"alg": "HS256", "typ": "JWT", "kid": None})})
    both("refresh: inactive user", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", user_id="2"))})
    both("refresh: integer user id", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", user_id=1))})
    both("refresh: unrecorded token", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh"))})
    both("refresh: no type", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", token_type=MISSING))})
    both("refresh: no exp", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", exp=MISSING))})
    both("refresh: float exp", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", exp=time.time() + 3600.4))})
    # Ours (CONTRACT.md): a numeric-string exp is "Token is invalid"; the reference reads it as a number.
    both("refresh: list exp", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", exp=[1]))})
    both("refresh: future nbf", "POST", "/api/token/refresh/", {"refresh": forge(claims("refresh", nbf=int(time.time()) + 3600))})
    both("refresh: empty", "POST", "/api/token/refresh/", {})
    both("refresh: blank", "POST", "/api/token/refresh/", {"refresh": ""})
    both("refresh: token with newline", "POST", "/api/token/refresh/", lambda port: {"refresh": fresh_refresh(port) + "\n"})

    # POST /api/token/verify/
    both("verify: access", "POST", "/api/token/verify/", lambda port: {"token": pairs[port]["access"]})
    both("verify: refresh", "POST", "/api/token/verify/", lambda port: {"token": fresh_refresh(port)})
    both("verify: untyped", "POST", "/api/token/verify/", {"token": forge(claims("access", token_type=MISSING))})
    both("verify: garbage", "POST", "/api/token/verify/", {"token": "garbage"})
    both("verify: expired", "POST", "/api/token/verify/", {"token": forge(claims("access", exp=1000, iat=900))})
    both("verify: no jti", "POST", "/api/token/verify/", {"token": forge(claims("access", jti=MISSING))})
    both("verify: no exp", "POST", "/api/token/verify/", {"token": forge(claims("access", exp=MISSING))})
    both("verify: blacklisted refresh", "POST", "/api/token/verify/", used_refresh)
    both("verify: empty", "POST", "/api/token/verify/", {})
    both("verify: blank", "POST", "/api/token/verify/", {"token": ""})

    # POST /api/token/blacklist/
    def logged_out(port):
        token = fresh_refresh(port)
        request(port, "POST", "/api/token/blacklist/", {"refresh": token})
        return {"refresh": token}

    both("blacklist: valid", "POST", "/api/token/blacklist/", lambda port: {"refresh": fresh_refresh(port)})
    both("blacklist: again", "POST", "/api/token/blacklist/", logged_out)
    both("blacklist: then refresh", "POST", "/api/token/refresh/", logged_out)
    both("blacklist: then verify", "POST", "/api/token/verify/", logged_out)
    both("blacklist: access token", "POST", "/api/token/blacklist/", lambda port: {"refresh": pairs[port]["access"]})
    both("blacklist: empty", "POST", "/api/token/blacklist/", {})

    # A protected resource
    bearer = lambda value: (lambda port: {"Authorization": value(port)})  # noqa: E731
    both("me: valid", "GET", "/api/me/", headers=bearer(lambda port: "Bearer " + pairs[port]["access"]))
    both("me: many spaces", "GET", "/api/me/", headers=bearer(lambda port: "Bearer      " + pairs[port]["access"]))
    both("me: no header", "GET", "/api/me/")
    both("me: other scheme", "GET", "/api/me/", headers=bearer(lambda port: "Token " + pairs[port]["access"]))
    both("me: lowercase bearer", "GET", "/api/me/", headers=bearer(lambda port: "bearer " + pairs[port]["access"]))
    both("me: Bearer alone", "GET", "/api/me/", headers={"Authorization": "Bearer"})
    both("me: three parts", "GET", "/api/me/", headers=bearer(lambda port: "Bearer " + pairs[port]["access"] + " x"))
    both("me: expired", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access", exp=1000, iat=900))})
    both("me: bad signature", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access"), secret="x")})
    both("me: garbage", "GET", "/api/me/", headers={"Authorization": "Bearer garbage"})
    both("me: refresh token", "GET", "/api/me/", headers=bearer(lambda port: "Bearer " + pairs[port]["refresh"]))
    both("me: inactive user", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access", user_id="2"))})
    both("me: unknown user", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access", user_id="99"))})
    both("me: no user id", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access", user_id=MISSING))})
    both("me: null user id", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access", user_id=None))})
    both("me: integer user id", "GET", "/api/me/", headers={"Authorization": "Bearer " + forge(claims("access", user_id=1))})
    both("me: POST with a valid token", "POST", "/api/me/", "", headers=bearer(lambda port: "Bearer " + pairs[port]["access"]))
    both("me: POST without a token", "POST", "/api/me/", "")

    # Tokens minted by one server work on the other (same key): PyJWT verifies ours.
    cross = [
        ("reference verifies our access token", reference_port, pairs[our_port]["access"]),
        ("we verify the reference's access token", our_port, pairs[reference_port]["access"]),
    ]
    for label, port, token in cross:
        count += 1
        status, body, _ = request(port, "GET", "/api/me/", headers={"Authorization": "Bearer " + token})
        if (status, body) != (200, {"username": "alice"}):
            failures.append(f"{label}: {status} {body}")

    for failure in failures:
        print("DIFFERENCE", failure)
    print(f"{count - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
