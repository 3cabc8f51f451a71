"""The console's password: an argon2id hash, from PAPERBOY_ADMIN_PASSWORD_HASH or the file
``paperboy admin set-password`` writes in the data folder (the environment wins).

Only the hash is ever stored; a malformed one stops every command at start (exit 2, one line
naming where it came from), so a typo never leaves the console silently open or silently off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.errors import ConfigError

ENV = "PAPERBOY_ADMIN_PASSWORD_HASH"
#: The file in the data folder that holds the hash.
FILE = "admin-password"
MIN_LENGTH = 10
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"the password is {len(password)} characters: give at least {MIN_LENGTH}")
    return _HASHER.hash(password)


def stored_hash(env: Mapping[str, str], data_dir: Path) -> str | None:
    """The hash in force, checked; None when no password is set (the console is off)."""
    raw = env.get(ENV, "").strip()
    where = ENV
    if not raw:
        path = Path(data_dir) / FILE
        if not path.is_file():
            return None
        raw, where = path.read_text().strip(), str(path)
    try:
        extract_parameters(raw)
    except (InvalidHashError, ValueError):
        raise ConfigError(
            f"{where} is not an argon2 hash (it should start with $argon2id$): make one with"
            " `paperboy admin set-password --print`"
        ) from None
    return raw


def save_hash(data_dir: Path, hashed: str) -> Path:
    """Write the hash readable by its owner only, replacing any earlier one at once."""
    path = Path(data_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{FILE}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(hashed + "\n")
    os.replace(temporary, path)
    return path


def verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
