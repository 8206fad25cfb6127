"""Who is calling: bearer credentials on the public API, checked once per
call by a server interceptor, giving a `Principal` with a tenant.

Two kinds of credential are accepted in the `authorization: Bearer <token>`
metadata:

- API keys, listed in a JSON file (`GRAPHMESH_API_KEYS_FILE`) by their
  SHA-256 digest (or, for local set-ups, in plain), each with a subject and
  a tenant;
- JWTs, verified against a PEM key or shared-secret file
  (`GRAPHMESH_JWT_KEY_FILE`) or a JWKS file (`GRAPHMESH_JWT_JWKS_FILE`, read
  again when it changes, for key rotation); `exp` and `sub` are required,
  the tenant is the claim `GRAPHMESH_JWT_TENANT_CLAIM` ("tenant"), and
  issuer and audience are checked when configured.

With neither configured, authentication is off: every caller is the
anonymous principal of tenant "default" (a warning is logged at start), and
`GRAPHMESH_AUTH_REQUIRED=true` refuses to start that way. Health checks and
reflection stay open unless `GRAPHMESH_AUTH_OPEN_REFLECTION=false`.

A token never reaches a log, a span or an error message: failures say what
was wrong with it, never what it was.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jwt
import structlog

from graphmesh.errors import Unauthenticated
from graphmesh.grpcutil import status_for
from graphmesh.interceptors import rewrap
from graphmesh.settings import SettingsError, env_bool, env_str

log = structlog.get_logger(__name__)

DEFAULT_TENANT = "default"
TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
#: Signing algorithms accepted for JWTs ("none" never is).
DEFAULT_JWT_ALGORITHMS = ("RS256", "ES256", "EdDSA", "HS256")
_HEALTH_PREFIX = "/grpc.health.v1.Health/"
_REFLECTION_PREFIX = "/grpc.reflection."


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one RPC."""

    subject: str
    tenant: str
    #: How it was authenticated: "api_key", "jwt" or "anonymous".
    via: str


ANONYMOUS = Principal("anonymous", DEFAULT_TENANT, "anonymous")

_current: contextvars.ContextVar[Principal] = contextvars.ContextVar("graphmesh_principal")


def current_principal() -> Principal:
    """The principal of the RPC being served. Fails closed: a handler
    reached without the authentication interceptor is a wiring error."""
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError(
            "no principal: the authentication interceptor is not installed"
        ) from None


def check_tenant(name: str, where: str) -> str:
    """A tenant name: lower-case letters, digits and '-', at most 63."""
    if not TENANT_PATTERN.match(name):
        raise SettingsError(
            f"{where}: tenant {name[:80]!r} must be 1-63 lower-case letters, digits or '-'"
        )
    return name


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How the public API authenticates its callers."""

    api_keys_file: Path | None = None
    jwt_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_algorithms: tuple[str, ...] = DEFAULT_JWT_ALGORITHMS
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_tenant_claim: str = "tenant"
    #: Refuse to start without any credential source configured.
    required: bool = False
    open_reflection: bool = True
    #: Seconds of clock skew allowed on exp / nbf / iat.
    leeway_seconds: float = 30.0

    @property
    def enabled(self) -> bool:
        """True when some credential source is configured."""
        return any((self.api_keys_file, self.jwt_key_file, self.jwt_jwks_file))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthSettings:
        """Reads GRAPHMESH_API_KEYS_FILE, GRAPHMESH_JWT_KEY_FILE,
        GRAPHMESH_JWT_JWKS_FILE, GRAPHMESH_JWT_ALGORITHMS, GRAPHMESH_JWT_ISSUER,
        GRAPHMESH_JWT_AUDIENCE, GRAPHMESH_JWT_TENANT_CLAIM,
        GRAPHMESH_AUTH_REQUIRED and GRAPHMESH_AUTH_OPEN_REFLECTION."""

        def path(name: str) -> Path | None:
            value = env_str(env, name, "")
            return Path(value) if value else None

        algorithms = tuple(
            a.strip()
            for a in env_str(
                env, "GRAPHMESH_JWT_ALGORITHMS", ",".join(DEFAULT_JWT_ALGORITHMS)
            ).split(",")
            if a.strip()
        )
        if any(a.lower() == "none" for a in algorithms) or not algorithms:
            raise SettingsError("GRAPHMESH_JWT_ALGORITHMS must list real signing algorithms")
        settings = cls(
            api_keys_file=path("GRAPHMESH_API_KEYS_FILE"),
            jwt_key_file=path("GRAPHMESH_JWT_KEY_FILE"),
            jwt_jwks_file=path("GRAPHMESH_JWT_JWKS_FILE"),
            jwt_algorithms=algorithms,
            jwt_issuer=env_str(env, "GRAPHMESH_JWT_ISSUER", ""),
            jwt_audience=env_str(env, "GRAPHMESH_JWT_AUDIENCE", ""),
            jwt_tenant_claim=env_str(env, "GRAPHMESH_JWT_TENANT_CLAIM", "tenant"),
            required=env_bool(env, "GRAPHMESH_AUTH_REQUIRED", False),
            open_reflection=env_bool(env, "GRAPHMESH_AUTH_OPEN_REFLECTION", True),
        )
        if settings.jwt_key_file and settings.jwt_jwks_file:
            raise SettingsError("set GRAPHMESH_JWT_KEY_FILE or GRAPHMESH_JWT_JWKS_FILE, not both")
        if settings.required and not settings.enabled:
            raise SettingsError(
                "GRAPHMESH_AUTH_REQUIRED is set but no credentials are configured "
                "(GRAPHMESH_API_KEYS_FILE, GRAPHMESH_JWT_KEY_FILE or GRAPHMESH_JWT_JWKS_FILE)"
            )
        return settings


def key_digest(api_key: str) -> str:
    """The SHA-256 digest (hex) under which an API key is listed."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _ApiKey:
    subject: str
    tenant: str


def load_api_keys(path: Path) -> dict[str, _ApiKey]:
    """API keys by digest, from a file like
    {"keys": [{"sha256": "<hex>", "subject": "ci", "tenant": "acme"}, ...]}
    ("key": "<plain key>" may stand for "sha256")."""
    try:
        document = json.loads(path.read_text())
        entries = document["keys"]
        if not isinstance(entries, list):
            raise TypeError("keys is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"GRAPHMESH_API_KEYS_FILE {path}: {exc}") from None
    keys: dict[str, _ApiKey] = {}
    for number, entry in enumerate(entries):
        where = f"GRAPHMESH_API_KEYS_FILE {path} entry {number}"
        if not isinstance(entry, dict):
            raise SettingsError(f"{where} is not an object")
        digest = entry.get("sha256") or (key_digest(entry["key"]) if "key" in entry else "")
        if not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
            raise SettingsError(f"{where} needs a 'sha256' (64 hex digits) or a 'key'")
        subject = str(entry.get("subject") or f"api-key-{number}")
        keys[str(digest)] = _ApiKey(subject, check_tenant(str(entry.get("tenant", "")), where))
    return keys


class _JwtKeys:
    """The key(s) JWTs are verified with; a JWKS file is read again when its
    modification time changes."""

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._static: Any = None
        self._jwks: jwt.PyJWKSet | None = None
        self._jwks_mtime = 0.0
        if settings.jwt_key_file is not None:
            try:
                self._static = settings.jwt_key_file.read_bytes().strip()
            except OSError as exc:
                raise SettingsError(f"GRAPHMESH_JWT_KEY_FILE: {exc}") from None
        if settings.jwt_jwks_file is not None:
            self._load_jwks()

    def _load_jwks(self) -> None:
        path = self._settings.jwt_jwks_file
        assert path is not None
        try:
            mtime = path.stat().st_mtime
            if self._jwks is not None and mtime == self._jwks_mtime:
                return
            self._jwks = jwt.PyJWKSet.from_json(path.read_text())
            self._jwks_mtime = mtime
        except (OSError, jwt.PyJWKSetError, ValueError) as exc:
            if self._jwks is None:
                raise SettingsError(f"GRAPHMESH_JWT_JWKS_FILE {path}: {exc}") from None
            log.warning("jwks_reload_failed", path=str(path), error=str(exc))

    def key_for(self, header: dict[str, Any]) -> Any:
        if self._static is not None:
            return self._static
        self._load_jwks()
        assert self._jwks is not None
        kid = header.get("kid")
        for key in self._jwks.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise Unauthenticated("the token's signing key is not known", reason="TOKEN_KEY_UNKNOWN")


class Authenticator:
    """Turns the `authorization` metadata of a call into a Principal."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._api_keys = load_api_keys(settings.api_keys_file) if settings.api_keys_file else {}
        jwt_on = settings.jwt_key_file or settings.jwt_jwks_file
        self._jwt_keys = _JwtKeys(settings) if jwt_on else None

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller, or Unauthenticated (reasons CREDENTIALS_MISSING,
        CREDENTIALS_MALFORMED, API_KEY_UNKNOWN, TOKEN_EXPIRED, TOKEN_INVALID,
        TOKEN_KEY_UNKNOWN, TOKEN_TENANT_MISSING)."""
        if not self.settings.enabled:
            return ANONYMOUS
        if not authorization:
            raise Unauthenticated(
                "this API needs credentials: send 'authorization: Bearer <API key or JWT>'",
                reason="CREDENTIALS_MISSING",
            )
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(
                "the authorization metadata must be 'Bearer <token>'",
                reason="CREDENTIALS_MALFORMED",
            )
        if token.count(".") == 2 and self._jwt_keys is not None:
            return self._verify_jwt(token)
        # Keys are looked up by digest: the lookup's timing tells nothing
        # about the key, and the configuration need not hold keys in plain.
        found = self._api_keys.get(key_digest(token))
        if found is None:
            raise Unauthenticated("the API key is not valid", reason="API_KEY_UNKNOWN")
        return Principal(found.subject, found.tenant, "api_key")

    def _verify_jwt(self, token: str) -> Principal:
        assert self._jwt_keys is not None
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self._jwt_keys.key_for(header),
                algorithms=list(s.jwt_algorithms),
                issuer=s.jwt_issuer or None,
                audience=s.jwt_audience or None,
                leeway=s.leeway_seconds,
                options={"require": ["exp", "sub"], "verify_aud": bool(s.jwt_audience)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            # PyJWT's messages name the failed check, never the token.
            raise Unauthenticated(
                f"the token is not valid: {exc}", reason="TOKEN_INVALID"
            ) from None
        tenant = claims.get(s.jwt_tenant_claim)
        if not isinstance(tenant, str) or not TENANT_PATTERN.match(tenant):
            raise Unauthenticated(
                f"the token has no valid '{s.jwt_tenant_claim}' claim",
                reason="TOKEN_TENANT_MISSING",
            )
        return Principal(str(claims["sub"]), tenant, "jwt")


_Behavior = Callable[[Any, grpc.aio.ServicerContext], Any]


@dataclass
class AuthServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Authenticates every call before its handler runs and makes the
    principal `current_principal()` inside it; health and (configurably)
    reflection stay open."""

    authenticator: Authenticator
    _open: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        settings = self.authenticator.settings
        self._open = (
            (_HEALTH_PREFIX, _REFLECTION_PREFIX) if settings.open_reflection else (_HEALTH_PREFIX,)
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(self._open):
            return handler
        method = details.method
        if handler.request_streaming:
            # graphmesh has no client-streaming RPCs: refuse rather than pass
            # an unauthenticated stream through.
            return grpc.stream_unary_rpc_method_handler(
                self._refuse_stream(method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return rewrap(
            handler,
            lambda behavior: self._unary(method, behavior),
            lambda behavior: self._stream(method, behavior),
        )

    async def _principal(self, context: grpc.aio.ServicerContext, method: str) -> Principal:
        authorization = None
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                authorization = value if isinstance(value, str) else value.decode("latin-1")
        try:
            return self.authenticator.authenticate(authorization)
        except Unauthenticated as exc:
            # What was refused and why, for audits; never the credential.
            log.info("authentication_failed", method=method, reason=exc.reason, peer=context.peer())
            await context.abort_with_status(status_for(exc))
            raise  # abort_with_status raises; this keeps type checkers content

    def _unary(self, method: str, behavior: _Behavior) -> _Behavior:
        async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
            _current.set(await self._principal(context, method))
            return await behavior(request, context)

        return authenticated

    def _stream(self, method: str, behavior: _Behavior) -> _Behavior:
        async def authenticated(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            _current.set(await self._principal(context, method))
            async for item in behavior(request, context):
                yield item

        return authenticated

    def _refuse_stream(self, method: str) -> Callable[[Any, grpc.aio.ServicerContext], Any]:
        async def refuse(requests: Any, context: grpc.aio.ServicerContext) -> Any:
            await self._principal(context, method)
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "client streaming is not supported")

        return refuse
