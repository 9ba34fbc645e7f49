"""Crafting tokens the way an attacker would, and key files for the RS256 and EdDSA key rings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from aibos.platform.settings import Settings

HS256_KID = "hs256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_part(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims_of(token: str) -> dict[str, Any]:
    """The payload, unchecked."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def header_of(token: str) -> dict[str, Any]:
    return dict(jwt.get_unverified_header(token))


def signed_with_secret(settings: Settings, claims: dict[str, Any], *, kid: str = HS256_KID) -> str:
    """A token signed with the app's own HS256 secret: everything but the claims is genuine."""
    return jwt.encode(claims, settings.secret_key, algorithm="HS256", headers={"kid": kid})


def reforged(settings: Settings, token: str, **changes: Any) -> str:
    """This token's claims with some changed, signed again with the app's secret."""
    return signed_with_secret(settings, {**claims_of(token), **changes})


def without_claim(settings: Settings, token: str, claim: str) -> str:
    claims = claims_of(token)
    del claims[claim]
    return signed_with_secret(settings, claims)


def unsigned(claims: dict[str, Any], *, alg: str = "none", kid: str = HS256_KID) -> str:
    """An `alg: none` token: header and payload, no signature."""
    return f"{encode_part({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{encode_part(claims)}."


def hmac_signed(claims: dict[str, Any], key: bytes, *, kid: str) -> str:
    """HS256 by hand, with any bytes as the key (PyJWT refuses a public key as an HMAC secret)."""
    signing_input = (
        f"{encode_part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{encode_part(claims)}"
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _private_pem(key)


def ed25519_pem() -> bytes:
    return _private_pem(ed25519.Ed25519PrivateKey.generate())


KEY_MAKERS: dict[str, Callable[[], bytes]] = {"RS256": rsa_pem, "EdDSA": ed25519_pem}


def public_pem(private: bytes) -> bytes:
    key = serialization.load_pem_private_key(private, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_key(directory: Path, kid: str, pem: bytes) -> Path:
    path = directory / f"{kid}.pem"
    path.write_bytes(pem)
    return path


def _private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
