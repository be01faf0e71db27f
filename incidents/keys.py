"""The master secret: wraps per-incident keys; the checkpoint signing key derives from it.

With SQLite it is generated on first use into `fieldlog.key` beside the database file;
with PostgreSQL it must be given in FIELDLOG_SECRET_KEY (base64, 32 bytes).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from incidents.config import ConfigurationError, Settings, sqlite_path

KEY_BYTES = 32


def decode_key(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{origin} is not base64") from None
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{origin} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def master_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return decode_key(settings.secret_key, "FIELDLOG_SECRET_KEY")
    if settings.is_postgres:
        raise ConfigurationError(
            "FIELDLOG_SECRET_KEY is required with PostgreSQL: every API process and worker "
            'must share it (generate one with: python -c "import base64,os;'
            'print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return _key_file(sqlite_path(settings.db_url).parent / "fieldlog.key")


def _key_file(path: Path) -> bytes:
    """Read the generated key, creating it first if needed. The key is written whole to
    a private temporary file and linked into place, so processes starting at once all
    end up reading the one key that won."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return decode_key(path.read_text(), str(path))


def derive(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"fieldlog:{purpose}".encode()
    ).derive(master)


def signing_key(master: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(derive(master, "checkpoint-signing"))
