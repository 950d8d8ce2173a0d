"""The checkpoint signing key: `RIFF_SIGNING_KEY`, or <data dir>/signing.key made on first use.

The key file holds one signer key string (`PRIVATE+KEY+<name>+<id>+<base64>`,
the Go sumdb/note form) and is created with mode 0600 in one step (O_EXCL), so
it is never readable by others, not even for a moment. A key file that others
can read is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from riff.app.errors import AppError
from riff.settings import Settings
from riff.tlog import NoteError, NoteSigner, NoteVerifier

KEY_FILE = "signing.key"


def key_path(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def _read_skey(path: Path) -> NoteSigner:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AppError(f"signing key {path}: cannot read it ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AppError(
            f"signing key {path} can be read by others (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}`"
        )
    try:
        return NoteSigner.from_skey(text)
    except NoteError as exc:
        raise AppError(f"signing key {path}: {exc}") from None


def load_signer(settings: Settings, name: str, *, create: bool = True) -> NoteSigner:
    """The signer: from the setting, else the data dir's key file (created on first use)."""
    given = settings.signing_key
    if given:
        if given.startswith("PRIVATE+KEY+"):
            try:
                return NoteSigner.from_skey(given)
            except NoteError as exc:
                raise AppError(f"RIFF_SIGNING_KEY: {exc}") from None
        return _read_skey(Path(given).expanduser())
    path = key_path(settings)
    if path.exists() or not create:
        if not path.exists():
            raise AppError(f"no signing key at {path}; run `riff checkpoint` to create one")
        return _read_skey(path)
    signer = NoteSigner.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another riff made it meanwhile: use that one
        return _read_skey(path)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(signer.skey + "\n")
        out.flush()
        os.fsync(out.fileno())
    return signer


def parse_verifier_key(value: str) -> NoteVerifier:
    """A verifier key string, or a file holding one (or holding a signer key)."""
    text = value.strip()
    if "+" not in text or Path(text).expanduser().is_file():
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AppError(f"--key {value}: cannot read it ({exc.strerror})") from None
    try:
        if text.startswith("PRIVATE+KEY+"):
            return NoteSigner.from_skey(text).verifier()
        return NoteVerifier.from_vkey(text)
    except NoteError as exc:
        raise AppError(f"--key {value}: {exc}") from None


def local_verifiers(settings: Settings) -> list[NoteVerifier]:
    """The public key of the local signing key, if there is one (never creates it)."""
    given = settings.signing_key
    if not given and not key_path(settings).exists():
        return []
    return [load_signer(settings, "riff", create=False).verifier()]
