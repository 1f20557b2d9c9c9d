"""Raw payloads as the publishers served them, stored once each under their sha256.

``root/ab/abcdef....bin``: the first two hex digits fan the files out over 256 folders. A file
is written to a private ``.part`` name, flushed to disk, then renamed into place, so a reader
never sees half a payload and two processes storing the same bytes cannot clash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from pathlib import Path

from smallcaps.errors import STORE_UNCHANGED, StoreError
from smallcaps.sources.base import Payload

_HEX64 = re.compile(r"[0-9a-f]{64}")


class Archive:
    """Content-addressed folder of raw payload bytes.

    Parameters
    ----------
    root : Path
        The archive folder; created on the first ``put``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Archive({str(self.root)!r})"

    def path(self, sha256: str) -> Path:
        """Where the payload with this digest lives (whether or not it is there)."""
        digest = sha256.lower()
        if not _HEX64.fullmatch(digest):
            raise StoreError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / digest[:2] / f"{digest}.bin"

    def has(self, sha256: str) -> bool:
        """Whether the payload with this digest is stored."""
        return self.path(sha256).is_file()

    def put(self, payload: Payload | bytes) -> Path:
        """Store the bytes once (identical bytes are not written again); return their path."""
        data = payload.data if isinstance(payload, Payload) else bytes(payload)
        target = self.path(hashlib.sha256(data).hexdigest())
        if target.is_file():
            return target
        part = target.with_name(f"{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with part.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(part, target)  # atomic on POSIX and Windows
        except OSError as exc:
            raise StoreError(
                f"cannot write to the archive {str(self.root)!r} ({exc.strerror or exc}: "
                f"{exc.filename or target}); make the folder writable or set SMALLCAPS_HOME to a "
                f"folder you can write. {STORE_UNCHANGED}"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        return target

    def digests(self) -> list[str]:
        """The sha256 of every payload file in the archive (by file name), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name[:-4]
            for p in self.root.glob("??/*.bin")
            if _HEX64.fullmatch(p.name[:-4]) and p.parent.name == p.name[:2]
        )

    def get(self, sha256: str) -> bytes:
        """The stored bytes, after checking that they still hash to ``sha256``."""
        target = self.path(sha256)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"payload {sha256} is not in the archive {str(self.root)!r}; fetch the series "
                "again to restore it"
            ) from None
        found = hashlib.sha256(data).hexdigest()
        if found != sha256.lower():
            raise StoreError(
                f"archive file {str(target)!r} is corrupt: its bytes hash to {found}; delete it "
                "and fetch the series again"
            )
        return data
