"""Where things live and which keys are set, from arguments or the environment; no global state.

``SMALLCAPS_HOME`` (default ``~/.smallcaps``) holds the store and the payload archive;
``SMALLCAPS_MIRROR`` names a folder laid out like the project's data mirror, for offline use;
``FRED_API_KEY`` and ``STOOQ_API_KEY`` are the users' own free keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from smallcaps.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Config:
    """Resolved settings.

    Parameters
    ----------
    home : Path
        Folder for ``store.duckdb`` and ``archive/``.
    mirror : Path, optional
        Offline mirror folder; when set, sources read from it instead of the network.
    fred_api_key, stooq_api_key : str, optional
        The user's keys.
    """

    home: Path
    mirror: Path | None = None
    fred_api_key: str | None = None
    stooq_api_key: str | None = None

    @property
    def store_path(self) -> Path:
        """The DuckDB file."""
        return self.home / "store.duckdb"

    @property
    def archive_path(self) -> Path:
        """The folder of raw payloads, keyed by sha256."""
        return self.home / "archive"

    @property
    def cache_path(self) -> Path:
        """Results of measurements kept between commands (safe to delete at any time)."""
        return self.home / "cache" / "runs"

    @classmethod
    def resolve(
        cls,
        *,
        home: Path | None = None,
        mirror: Path | None = None,
        env: Mapping[str, str] | None = None,
        use_mirror: bool = True,
    ) -> Config:
        """Arguments first, then the environment, then defaults; a bad mirror is a ConfigError.

        ``use_mirror=False`` ignores any mirror (commands that only read the store).
        """
        env = os.environ if env is None else env
        home = home or Path(env.get("SMALLCAPS_HOME") or Path.home() / ".smallcaps")
        mirror_text = env.get("SMALLCAPS_MIRROR") if mirror is None else mirror
        mirror_text = mirror_text if use_mirror else None
        mirror_path = Path(mirror_text).expanduser() if mirror_text else None
        if mirror_path is not None and not mirror_path.is_dir():
            raise ConfigError(
                f"mirror folder {str(mirror_path)!r} does not exist; pass --mirror DIR or set "
                "SMALLCAPS_MIRROR to a folder laid out like shared/data"
            )
        return cls(
            home=Path(home).expanduser(),
            mirror=mirror_path,
            fred_api_key=env.get("FRED_API_KEY") or None,
            stooq_api_key=env.get("STOOQ_API_KEY") or None,
        )
