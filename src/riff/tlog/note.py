"""C2SP signed-note with Ed25519 keys (https://c2sp.org/signed-note).

A note is UTF-8 text ending in a newline, a blank line, and signature lines
`— <key name> <base64(key id || signature)>`. The key id is the first four
bytes of SHA-256(name || 0x0A || 0x01 || public key), 0x01 naming Ed25519.
Keys travel as strings: the verifier key `<name>+<key id hex>+<base64(0x01 ||
public key)>` and the signer key `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01
|| seed)>`, the forms Go's golang.org/x/mod/sumdb/note reads and writes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from riff.tlog.errors import NoteError

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def is_valid_key_name(name: str) -> bool:
    """Non-empty, no '+', no whitespace (the spec's rule for key names)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, alg_and_key: bytes) -> int:
    """The 32-bit key id: SHA-256(name || "\\n" || alg || key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + alg_and_key).digest()
    return int.from_bytes(digest[:4], "big")


def strict_b64decode(text: str) -> bytes:
    """Standard base64 in its one canonical spelling (unused bits zero), else ValueError.

    The lenient decoders accept several spellings of the same bytes, so an
    edited character could leave a signature valid; riff refuses them.
    """
    try:
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None
    if base64.b64encode(value).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return value


def _b64decode(text: str, what: str) -> bytes:
    try:
        return strict_b64decode(text)
    except ValueError:
        raise NoteError(f"{what} is not valid base64") from None


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    key_id: int
    public_key: bytes

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key reads NAME+KEYID+BASE64KEY")
        name, hex_id, encoded = parts
        if not is_valid_key_name(name):
            raise NoteError(f"verifier key name {name!r} is not a valid key name")
        if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
            raise NoteError(f"verifier key id {hex_id!r} is not 8 lowercase hex digits")
        key = _b64decode(encoded, "the verifier key")
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise NoteError("the verifier key is not an Ed25519 key (0x01 and 32 bytes)")
        if key_id(name, key) != int(hex_id, 16):
            raise NoteError("the verifier key's id does not match its name and key")
        return cls(name, int(hex_id, 16), key[1:])

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A named Ed25519 private key (its 32-byte seed) that signs notes."""

    name: str
    seed: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise NoteError(f"key name {self.name!r} must be non-empty, without '+' or spaces")
        if len(self.seed) != 32:
            raise NoteError("an Ed25519 seed has 32 bytes")

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        text = skey.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise NoteError("a signer key reads PRIVATE+KEY+NAME+KEYID+BASE64SEED")
        parts = text[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise NoteError("a signer key reads PRIVATE+KEY+NAME+KEYID+BASE64SEED")
        name, hex_id, encoded = parts
        key = _b64decode(encoded, "the signer key")
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise NoteError("the signer key is not an Ed25519 key (0x01 and a 32-byte seed)")
        signer = cls(name, key[1:])
        if f"{signer.key_id:08x}" != hex_id:
            raise NoteError("the signer key's id does not match its name and key")
        return signer

    @property
    def public_key(self) -> bytes:
        return (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )

    @property
    def key_id(self) -> int:
        return key_id(self.name, bytes([ALG_ED25519]) + self.public_key)

    @property
    def skey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{encoded}"

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.key_id, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text must end with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("a note's text may hold no control characters but newlines")


def sign_note(text: str, signer: NoteSigner) -> str:
    """The signed note: the text, a blank line, one signature line."""
    _check_text(text)
    signature = signer.sign(text.encode("utf-8"))
    blob = signer.key_id.to_bytes(4, "big") + signature
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose text carries at least one signature by a trusted key."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Text and signature lines of a note, parsed strictly (NoteError if malformed)."""
    if any((ord(ch) < 0x20 and ch != "\n") for ch in note):
        raise NoteError("malformed note: control characters")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("malformed note: the signature block must end with a newline")
    signatures: list[NoteSignature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed note: {line[:40]!r} is not a signature line")
        name, sep, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        if not sep or not is_valid_key_name(name):
            raise NoteError(f"malformed note: bad signature line {line[:40]!r}")
        blob = _b64decode(encoded, "a signature")
        if len(blob) < 5:
            raise NoteError("malformed note: a signature is too short")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError("malformed note: too many signatures")
    return text, signatures


def open_note(note: str, verifiers: list[NoteVerifier]) -> OpenedNote:
    """Check a note's signatures; NoteError unless a trusted key signed it."""
    text, signatures = split_note(note)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in signatures:
        matches = [v for v in verifiers if v.name == sig.name and v.key_id == sig.key_id]
        if not matches:
            unverified.append(sig)
            continue
        if not matches[0].verify(message, sig.signature):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        if sig not in verified:
            verified.append(sig)
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_id:08x}" for s in signatures)
        raise NoteError(f"the note has no signature by a trusted key (signed by: {names})")
    return OpenedNote(text, tuple(verified), tuple(unverified))
