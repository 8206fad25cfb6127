"""Authentication without I/O: API keys, JWTs by key file and by JWKS,
and the settings that configure them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from graphmesh.auth import ANONYMOUS, Authenticator, AuthSettings, key_digest
from graphmesh.errors import Unauthenticated
from graphmesh.settings import SettingsError, kafka_from_env
from graphmesh_cli.main import main

HS_SECRET = "hs-secret-for-tests-0123456789abcdef"


def _keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "keys": [
                    {"sha256": key_digest("key-acme"), "subject": "ci", "tenant": "acme"},
                    {"key": "key-globex", "tenant": "globex"},
                ]
            }
        )
    )
    return path


def _reason(call: Any) -> str:
    with pytest.raises(Unauthenticated) as exc:
        call()
    return exc.value.reason


def test_without_credentials_configured_everyone_is_the_default_tenant() -> None:
    auth = Authenticator(AuthSettings())
    assert auth.authenticate(None) == ANONYMOUS
    assert auth.authenticate("Bearer anything") == ANONYMOUS
    with pytest.raises(SettingsError):
        AuthSettings.from_env({"GRAPHMESH_AUTH_REQUIRED": "true"})


def test_api_keys_map_to_their_tenant(tmp_path: Path) -> None:
    auth = Authenticator(
        AuthSettings.from_env({"GRAPHMESH_API_KEYS_FILE": str(_keys_file(tmp_path))})
    )
    acme = auth.authenticate("Bearer key-acme")
    assert (acme.subject, acme.tenant, acme.via) == ("ci", "acme", "api_key")
    assert auth.authenticate("bearer key-globex").tenant == "globex"
    assert _reason(lambda: auth.authenticate(None)) == "CREDENTIALS_MISSING"
    assert _reason(lambda: auth.authenticate("")) == "CREDENTIALS_MISSING"
    assert _reason(lambda: auth.authenticate("Basic a2V5")) == "CREDENTIALS_MALFORMED"
    assert _reason(lambda: auth.authenticate("Bearer ")) == "CREDENTIALS_MALFORMED"
    assert _reason(lambda: auth.authenticate("Bearer key-acmE")) == "API_KEY_UNKNOWN"


def test_bad_key_files_refuse_to_start(tmp_path: Path) -> None:
    for body in (
        "not json",
        '{"keys": {}}',
        '{"keys": [{"tenant": "a"}]}',
        '{"keys": [{"key": "k", "tenant": "Bad Tenant"}]}',
    ):
        path = tmp_path / "bad.json"
        path.write_text(body)
        with pytest.raises(SettingsError):
            Authenticator(AuthSettings.from_env({"GRAPHMESH_API_KEYS_FILE": str(path)}))


def _hs_auth(tmp_path: Path, **env: str) -> Authenticator:
    key = tmp_path / "hs.key"
    key.write_text(HS_SECRET)
    return Authenticator(AuthSettings.from_env({"GRAPHMESH_JWT_KEY_FILE": str(key), **env}))


def _claims(**over: Any) -> dict[str, Any]:
    return {"sub": "alice", "tenant": "acme", "exp": int(time.time()) + 300, **over}


def test_jwts_signed_with_the_shared_secret(tmp_path: Path) -> None:
    auth = _hs_auth(tmp_path)
    token = jwt.encode(_claims(), HS_SECRET, algorithm="HS256")
    alice = auth.authenticate(f"Bearer {token}")
    assert (alice.subject, alice.tenant, alice.via) == ("alice", "acme", "jwt")
    expired = jwt.encode(_claims(exp=int(time.time()) - 120), HS_SECRET, algorithm="HS256")
    assert _reason(lambda: auth.authenticate(f"Bearer {expired}")) == "TOKEN_EXPIRED"
    forged = jwt.encode(_claims(), "another-secret-of-32-bytes-length!!", algorithm="HS256")
    assert _reason(lambda: auth.authenticate(f"Bearer {forged}")) == "TOKEN_INVALID"
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    assert _reason(lambda: auth.authenticate(f"Bearer {unsigned}")) == "TOKEN_INVALID"
    no_exp = jwt.encode({"sub": "a", "tenant": "acme"}, HS_SECRET, algorithm="HS256")
    assert _reason(lambda: auth.authenticate(f"Bearer {no_exp}")) == "TOKEN_INVALID"
    no_tenant = jwt.encode(_claims(tenant=None), HS_SECRET, algorithm="HS256")
    assert _reason(lambda: auth.authenticate(f"Bearer {no_tenant}")) == "TOKEN_TENANT_MISSING"
    bad_tenant = jwt.encode(_claims(tenant="ACME/x"), HS_SECRET, algorithm="HS256")
    assert _reason(lambda: auth.authenticate(f"Bearer {bad_tenant}")) == "TOKEN_TENANT_MISSING"
    # The token's header is edited to another algorithm: the signature no longer fits.
    head, body, sig = token.split(".")
    assert _reason(lambda: auth.authenticate(f"Bearer {head}.{body}x.{sig}")) == "TOKEN_INVALID"


def test_issuer_audience_and_tenant_claim_are_checked_when_configured(tmp_path: Path) -> None:
    auth = _hs_auth(
        tmp_path,
        GRAPHMESH_JWT_ISSUER="https://idp.example",
        GRAPHMESH_JWT_AUDIENCE="graphmesh",
        GRAPHMESH_JWT_TENANT_CLAIM="org",
    )
    good = _claims(iss="https://idp.example", aud="graphmesh", org="globex")
    assert auth.authenticate("Bearer " + jwt.encode(good, HS_SECRET, "HS256")).tenant == "globex"
    for wrong in ({"iss": "https://evil.example"}, {"aud": "other"}, {"org": None}):
        token = jwt.encode({**good, **wrong}, HS_SECRET, "HS256")
        assert _reason(lambda t=token: auth.authenticate(f"Bearer {t}")) in (
            "TOKEN_INVALID",
            "TOKEN_TENANT_MISSING",
        )


def _rsa_jwk(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**public, "kid": kid, "alg": "RS256", "use": "sig"}


def test_jwks_keys_are_chosen_by_kid_and_reloaded_when_rotated(tmp_path: Path) -> None:
    old_key, old_jwk = _rsa_jwk("k1")
    new_key, new_jwk = _rsa_jwk("k2")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [old_jwk]}))
    auth = Authenticator(AuthSettings.from_env({"GRAPHMESH_JWT_JWKS_FILE": str(jwks)}))
    old = jwt.encode(_claims(), old_key, algorithm="RS256", headers={"kid": "k1"})
    new = jwt.encode(_claims(tenant="globex"), new_key, algorithm="RS256", headers={"kid": "k2"})
    assert auth.authenticate(f"Bearer {old}").tenant == "acme"
    assert _reason(lambda: auth.authenticate(f"Bearer {new}")) == "TOKEN_KEY_UNKNOWN"
    jwks.write_text(json.dumps({"keys": [new_jwk]}))
    os.utime(jwks, (time.time() + 5, time.time() + 5))  # a visibly newer file
    assert auth.authenticate(f"Bearer {new}").tenant == "globex"
    assert _reason(lambda: auth.authenticate(f"Bearer {old}")) == "TOKEN_KEY_UNKNOWN"


def test_jwt_settings_refuse_none_and_two_key_sources(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        AuthSettings.from_env({"GRAPHMESH_JWT_ALGORITHMS": "none"})
    with pytest.raises(SettingsError):
        AuthSettings.from_env({"GRAPHMESH_JWT_KEY_FILE": "a", "GRAPHMESH_JWT_JWKS_FILE": "b"})


def test_kafka_security_settings_become_aiokafka_options(tmp_path: Path) -> None:
    plain = kafka_from_env({"GRAPHMESH_KAFKA_BOOTSTRAP": "k:9092"}).client_options()
    assert plain == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    sasl = kafka_from_env(
        {
            "GRAPHMESH_KAFKA_BOOTSTRAP": "k:9093",
            "GRAPHMESH_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "GRAPHMESH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "GRAPHMESH_KAFKA_SASL_USERNAME": "mesh",
            "GRAPHMESH_KAFKA_SASL_PASSWORD": "kafka-pass-77",
        }
    )
    assert "kafka-pass-77" not in repr(sasl)
    options = sasl.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "mesh",
        "kafka-pass-77",
    )
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    for bad in (
        {"GRAPHMESH_KAFKA_SECURITY_PROTOCOL": "TLS"},
        {"GRAPHMESH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},  # no credentials
        {"GRAPHMESH_KAFKA_SASL_MECHANISM": "GSSAPI"},
    ):
        with pytest.raises(SettingsError):
            kafka_from_env({"GRAPHMESH_KAFKA_BOOTSTRAP": "k:9092", **bad})


def test_a_key_made_by_the_cli_is_accepted_through_its_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["auth", "new-key", "--tenant", "acme", "--subject", "ci-bot"]) == 0
    made = json.loads(capsys.readouterr().out)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [made["keys_file_entry"]]}))
    assert made["api_key"] not in keys.read_text()
    auth = Authenticator(AuthSettings.from_env({"GRAPHMESH_API_KEYS_FILE": str(keys)}))
    principal = auth.authenticate(f"Bearer {made['api_key']}")
    assert (principal.subject, principal.tenant) == ("ci-bot", "acme")
    assert main(["auth", "new-key", "--tenant", "Not/A/Tenant"]) == 2


def test_algorithm_confusion_with_the_public_key_as_an_hmac_secret_is_refused(
    tmp_path: Path,
) -> None:
    """With a PEM public key configured and HS256 allowed (the default list
    has both), a token HMAC-signed with that public key must not verify."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(pem)
    auth = Authenticator(AuthSettings.from_env({"GRAPHMESH_JWT_KEY_FILE": str(key_file)}))
    genuine = jwt.encode(_claims(), private, algorithm="RS256")
    assert auth.authenticate(f"Bearer {genuine}").tenant == "acme"

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(_claims(tenant="globex")).encode())
    tag = hmac.new(pem.strip(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{head}.{body}.{b64(tag)}"
    assert _reason(lambda: auth.authenticate(f"Bearer {forged}")) == "TOKEN_INVALID"
