"""C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint) inside signed notes.

The body is three lines: the origin (which log), the tree size in decimal, and
the base64 root hash; riff writes no extension lines and ignores none it
reads (a checkpoint with extensions is reported as not riff's).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from riff.tlog.errors import CheckpointError
from riff.tlog.hashing import HASH_SIZE
from riff.tlog.note import NoteSigner, NoteVerifier, open_note, sign_note, split_note

ORIGIN_PREFIX = "riff/"


def origin_for(store_id: str) -> str:
    """The origin line naming one riff log."""
    return f"{ORIGIN_PREFIX}{store_id}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("a checkpoint's origin is one non-empty line")
        if self.size < 0:
            raise CheckpointError(f"tree size {self.size} is negative")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"a root hash has {HASH_SIZE} bytes, got {len(self.root)}")

    @property
    def root_hex(self) -> str:
        return self.root.hex()

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise CheckpointError("a checkpoint body ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint body has an origin, a size and a root line")
        if len(lines) > 3:
            raise CheckpointError("this checkpoint has extension lines; riff writes none")
        origin, size_text, root_text = lines
        if not size_text.isascii() or not size_text.isdigit():
            raise CheckpointError(f"tree size {size_text!r} is not a decimal number")
        if size_text != "0" and size_text.startswith("0"):
            raise CheckpointError(f"tree size {size_text!r} has leading zeros")
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise CheckpointError(f"root hash {root_text!r} is not base64") from None
        checkpoint = cls(origin, int(size_text), root)
        if checkpoint.body() != body:
            raise CheckpointError("the checkpoint body is not in its canonical form")
        return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note of a checkpoint."""
    return sign_note(checkpoint.body(), signer)


def read_checkpoint(note: str) -> Checkpoint:
    """The checkpoint a note carries, signatures NOT checked (for listing only)."""
    text, _ = split_note(note)
    return Checkpoint.parse(text)


def open_checkpoint(
    note: str, verifiers: list[NoteVerifier], *, origin: str | None = None
) -> Checkpoint:
    """The checkpoint of a note signed by a trusted key (NoteError / CheckpointError otherwise)."""
    opened = open_note(note, verifiers)
    checkpoint = Checkpoint.parse(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"the checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
