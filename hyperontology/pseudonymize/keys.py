"""Keyed pseudonyms: HMAC-SHA256 with the data holder's secret key, never a bare hash, never logged.

The key comes from a key file (``--key-file``) or the ``HYPERONTOLOGY_KEY`` environment variable (hex or
base64 of at least 32 bytes). Without a key the caller stops with :class:`KeyMissingError`, unless the
user asks for a new one (:func:`new_key_file`). The same key and domain give the same pseudonym for the
same identifier, so re-running an ingest changes nothing and DICOM and clinical data meet.

Examples
--------
>>> key = PseudonymKey(bytes(32))
>>> key.pseudonym("patient", "12345") == key.pseudonym("patient", "12345")
True
>>> key.pseudonym("patient", "12345") != key.pseudonym("study", "12345")
True
>>> "12345" in repr(key) or "0000" in repr(key)
False
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from hyperontology.errors import HyperontologyError

ENV_VAR = "HYPERONTOLOGY_KEY"
MIN_KEY_BYTES = 32


class KeyMissingError(HyperontologyError):
    """No pseudonymization key was given (or it is unusable)."""


@dataclass(frozen=True)
class PseudonymKey:
    """A secret key for one pseudonymization domain set; its bytes never appear in repr or logs."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise KeyMissingError(f"the pseudonymization key must hold at least {MIN_KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"PseudonymKey(<secret, {len(self.secret)} bytes, id {self.key_id}>)"

    @property
    def key_id(self) -> str:
        """A non-secret fingerprint of the key (to tell keys apart in reports)."""
        return hmac.new(self.secret, b"hyperontology key id", hashlib.sha256).hexdigest()[:12]

    def pseudonym(self, domain: str, value: str) -> str:
        """A 32-hex-digit pseudonym of ``value`` in ``domain`` (``patient``, ``study``, ``series``...)."""
        message = f"{domain}\x1f{value.strip()}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]


    def date_offset_days(self, patient_id: str) -> int:
        """Days to shift every date of a patient by: in [-1825, -30], fixed per key and patient (intervals kept)."""
        message = f"date-shift\x1f{normalise_patient_id(patient_id)}".encode()
        number = int.from_bytes(hmac.new(self.secret, message, hashlib.sha256).digest()[:8], "big")
        return -30 - number % (1825 - 30 + 1)

    def uid(self, domain: str, value: str) -> str:
        """A replacement DICOM UID (``2.25.`` and a 128-bit integer, PS3.5 B.2) for ``value`` in ``domain``."""
        digest = hmac.new(self.secret, f"uid\x1f{domain}\x1f{value.strip()}".encode(), hashlib.sha256).digest()
        return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def normalise_patient_id(value: str) -> str:
    """A patient identifier as pseudonymized: whitespace collapsed, case folded (``" ab 12 "`` = ``"AB 12"``).

    Examples
    --------
    >>> normalise_patient_id("  Ab   12 ") == normalise_patient_id("AB 12")
    True
    """
    return " ".join(str(value).split()).casefold()


def _decode(text: str, where: str) -> bytes:
    text = text.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) >= MIN_KEY_BYTES:
            return raw
    raise KeyMissingError(f"{where}: not a key (hex or base64 of at least {MIN_KEY_BYTES} bytes)")


def load_key(key_file: Path | None = None, *, environ: dict[str, str] | None = None) -> PseudonymKey:
    """The key from ``key_file``, else from ``$HYPERONTOLOGY_KEY``; KeyMissingError when neither is there."""
    env = os.environ if environ is None else environ
    if key_file is not None:
        try:
            return PseudonymKey(_decode(key_file.read_text(encoding="ascii"), str(key_file)))
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyMissingError(f"{key_file}: cannot read the key file ({exc.__class__.__name__})") from exc
    if env.get(ENV_VAR):
        return PseudonymKey(_decode(env[ENV_VAR], f"${ENV_VAR}"))
    raise KeyMissingError(
        f"no pseudonymization key: give --key-file FILE or set {ENV_VAR}; "
        "or create one with --new-key FILE (keep it secret, and keep it: the same key gives the same pseudonyms)"
    )


def new_key_file(path: Path) -> PseudonymKey:
    """Write a new random 32-byte key (hex) to ``path`` (mode 0600); refuses to overwrite a key."""
    if path.exists():
        raise KeyMissingError(f"{path}: exists; refusing to overwrite a key")
    secret = secrets.token_bytes(MIN_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    return PseudonymKey(secret)
