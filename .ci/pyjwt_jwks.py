#!/usr/bin/env python3
"""An independent verifier trusts our tokens from our published JWKS alone:
PyJWT's PyJWKClient fetches /.well-known/jwks.json from the example server
(started with a freshly generated key per algorithm) and verifies a token.

Usage: pyjwt_jwks.py SERVER_BINARY   (needs PyJWT[crypto])
"""
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import jwt
from jwt import PyJWKClient


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="pyjwt-jwks-")
    passed, failed = 0, 0
    for algorithm in ("ES256", "ES384", "EdDSA", "RS256", "PS256"):
        pem = f"{work}/{algorithm}.pem"
        keygen_algorithm = "RS256" if algorithm == "PS256" else algorithm
        with open(pem, "wb") as out:
            subprocess.run([binary, "keygen", "--algorithm", keygen_algorithm], check=True, stdout=out)
        database = f"sqlite://{work}/{algorithm}.sqlite3"
        subprocess.run([binary, "createuser", "alice", "--password", "wonderland-42", "--database", database],
                       check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--database", database,
                                   "--algorithm", algorithm, "--signing-key", pem, "--issuer", issuer],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            request = urllib.request.Request(f"{issuer}/api/token/", method="POST",
                                             data=json.dumps({"username": "alice", "password": "wonderland-42"}).encode(),
                                             headers={"Content-Type": "application/json"})
            access = json.load(urllib.request.urlopen(request, timeout=30))["access"]
            discovery = json.load(urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=30))
            client = PyJWKClient(discovery["jwks_uri"])
            signing_key = client.get_signing_key_from_jwt(access)
            claims = jwt.decode(access, signing_key.key, algorithms=[algorithm], issuer=issuer)
            assert claims["user_id"] == "1" and claims["token_type"] == "access", claims
            print(f"{algorithm}: PyJWT {jwt.__version__} verified our token with key {signing_key.key_id} from the JWKS")
            passed += 1
        except Exception as error:  # noqa: BLE001 - report and count every failure
            print(f"{algorithm}: FAILED: {error!r}")
            failed += 1
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
