"""Signing and checking access tokens (JWT), with key ids and rotation; JWKS for the public keys."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from aibos.modules.auth.exceptions import InvalidToken
from aibos.platform.settings import Settings

ACCESS = "access"
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "nbf", "exp", "jti", "type", "sid", "roles"]
NUMERIC_DATES = ("iat", "nbf", "exp")  # RFC 7519 NumericDate: a JSON number, never a string
_MAX_REMEMBERED_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class Key:
    kid: str
    algorithm: str
    signing: Any  # None for a key kept only to verify tokens signed before a rotation
    verifying: Any


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    issued_at: float
    roles: frozenset[str]
    valid_from: int  # the later of nbf and iat, compared with the clock as PyJWT does
    expires_at: int

    def in_force(self, now: float) -> bool:
        return self.valid_from <= now < self.expires_at


def _load_pem(path: Path) -> Key:
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        private = serialization.load_pem_private_key(data, password=None)
        public: Any = private.public_key()
    else:
        private, public = None, serialization.load_pem_public_key(data)
    if isinstance(public, rsa.RSAPublicKey):
        algorithm = "RS256"
    elif isinstance(public, ed25519.Ed25519PublicKey):
        algorithm = "EdDSA"
    else:
        raise ValueError(f"{path.name}: only RSA and Ed25519 keys are supported")
    return Key(kid=path.stem, algorithm=algorithm, signing=private, verifying=public)


class KeyRing:
    """HS256 with the secret key by default; with AIBOS_JWT_KEYS_DIR, every <kid>.pem in it.

    The active key (AIBOS_JWT_ACTIVE_KEY_ID, else the last by name) signs; every key verifies,
    so tokens signed before a rotation keep working until their key file is removed.
    """

    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._lifetime = timedelta(minutes=settings.access_token_minutes)
        self._verified: dict[str, AccessClaims] = {}
        if settings.jwt_keys_dir is None:
            secret = settings.secret_key.encode()
            self._keys = {"hs256": Key("hs256", "HS256", secret, secret)}
            self._active = self._keys["hs256"]
            return
        keys = [_load_pem(path) for path in sorted(settings.jwt_keys_dir.glob("*.pem"))]
        self._keys = {key.kid: key for key in keys}
        signers = [key for key in keys if key.signing is not None]
        wanted = settings.jwt_active_key_id
        active = self._keys.get(wanted) if wanted else (signers[-1] if signers else None)
        if active is None or active.signing is None:
            raise ValueError("AIBOS_JWT_KEYS_DIR holds no private key to sign with")
        self._active = active

    @property
    def lifetime_seconds(self) -> int:
        return int(self._lifetime.total_seconds())

    def issue(
        self, *, user_id: uuid.UUID, session_id: uuid.UUID, roles: frozenset[str], now: datetime
    ) -> str:
        claims = {
            "sub": str(user_id),
            "iss": self._issuer,
            "aud": self._audience,
            "iat": round(now.timestamp(), 6),  # sub-second, so revocation cut-offs are exact
            "nbf": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
            "jti": uuid.uuid4().hex,
            "type": ACCESS,
            "sid": str(session_id),
            "roles": sorted(roles),
        }
        key = self._active
        return jwt.encode(claims, key.signing, algorithm=key.algorithm, headers={"kid": key.kid})

    def read(self, token: str) -> AccessClaims:
        """The claims of a valid access token; anything else raises InvalidToken.

        A token seen before is not verified again, but its validity period is checked each time.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= _MAX_REMEMBERED_TOKENS:
                self._verified.clear()
            self._verified[token] = claims
        if not claims.in_force(time.time()):
            raise InvalidToken()
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            key = self._keys.get(jwt.get_unverified_header(token).get("kid", ""))
            if key is None:
                raise InvalidToken()
            claims = jwt.decode(
                token,
                key.verifying,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
            )
            if claims["type"] != ACCESS or not isinstance(claims["roles"], list):
                raise InvalidToken()
            if not all(_is_number(claims[name]) for name in NUMERIC_DATES):
                raise InvalidToken()
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                issued_at=float(claims["iat"]),
                roles=frozenset(str(role) for role in claims["roles"]),
                valid_from=max(int(claims["nbf"]), int(claims["iat"])),
                expires_at=int(claims["exp"]),
            )
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as error:
            raise InvalidToken() from error

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys, for verifiers elsewhere; a shared HS256 secret is never published."""
        published = []
        for key in self._keys.values():
            if key.algorithm == "HS256":
                continue
            codec = RSAAlgorithm if key.algorithm == "RS256" else OKPAlgorithm
            jwk = codec.to_jwk(key.verifying, as_dict=True)
            published.append({**jwk, "kid": key.kid, "alg": key.algorithm, "use": "sig"})
        return {"keys": published}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def new_opaque_token() -> tuple[str, str]:
    """A random token for the client and the only form we keep of it: its SHA-256."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
