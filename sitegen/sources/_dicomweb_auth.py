"""Credentials and TLS for a DICOMweb source: from the environment variables the config names,
named in messages by their variables, never their values."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import httpx

from ._dicomweb_url import DicomwebError, DicomwebUrl

NO_CREDENTIAL = (
    "no credentials are configured (set the case's auth.bearer_env, or auth.basic_user_env and "
    "auth.basic_password_env, to the names of environment variables holding them)"
)


def describe_credential(auth: dict[str, str]) -> str:
    """How error messages name the credential: by its variable, never its value."""
    if auth.get("bearer_env"):
        return f"the bearer token in ${auth['bearer_env']} (auth.bearer_env)"
    if auth.get("basic_user_env"):
        return (
            f"the user and password in ${auth['basic_user_env']} and "
            f"${auth.get('basic_password_env', '')} (auth.basic_user_env, auth.basic_password_env)"
        )
    return NO_CREDENTIAL


def credentials(
    url: DicomwebUrl, auth: dict[str, str]
) -> tuple[dict[str, str], httpx.BasicAuth | None]:
    """Headers and basic auth from the environment variables the config names."""

    def env(key: str) -> str:
        name = auth.get(key, "")
        if not name:
            raise DicomwebError(f"{url.source}: auth.{key} is needed alongside the other auth key")
        value = os.environ.get(name)
        if not value:
            raise DicomwebError(
                f"{url.source}: the environment variable ${name} (auth.{key}) is not set"
            )
        return value

    if auth.get("bearer_env"):
        return {"Authorization": f"Bearer {env('bearer_env')}"}, None
    if auth.get("basic_user_env") or auth.get("basic_password_env"):
        return {}, httpx.BasicAuth(env("basic_user_env"), env("basic_password_env"))
    return {}, None


def tls_context(url: DicomwebUrl, root: Path, auth: dict[str, str]) -> ssl.SSLContext | bool:
    """Verification is always on; `ca_bundle` (relative to the site) adds a private CA."""
    bundle = auth.get("ca_bundle")
    if not bundle:
        return True
    path = (root / bundle).resolve()
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise DicomwebError(f"{url.source}: auth.ca_bundle {path}: {exc}") from None


def untrusted_certificate(exc: BaseException) -> bool:
    """Whether a connection failed on certificate verification (no use retrying that)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)
