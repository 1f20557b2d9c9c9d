"""Where things live and which keys are set, from arguments or the environment; no global state.

``SMALLCAPS_HOME`` (default ``~/.smallcaps``) holds the store and the payload archive;
``SMALLCAPS_MIRROR`` names a folder laid out like the project's data mirror, for offline use;
``FRED_API_KEY`` and ``STOOQ_API_KEY`` are the users' own free keys.

``SMALLCAPS_URL_<NAME>`` points one publisher endpoint elsewhere (a proxy, a local test
server); each defaults to the publisher's real host:

==============  =====================================================================
``FRED``        FRED's API base (``https://api.stlouisfed.org/fred``)
``FREDGRAPH``   FRED's keyless CSV, a template with ``{series_id}``
``FRENCH``      Ken French's ``ftp`` folder; ``/<dataset>_CSV.zip`` is appended
``ISHARES``     iShares' ``/us/products`` folder; the fund's ajax path is appended
``SHILLER``     Shiller's data page (the ``ie_data.xls`` link on it is followed)
``NBER``        NBER's ``data/cycles`` folder; ``/business_cycle_dates.json`` is appended
``YAHOO``       yfinance's requests to ``https://<host>/<path>`` go to ``<url>/<host>/<path>``
==============  =====================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smallcaps.errors import ConfigError

URL_PREFIX = "SMALLCAPS_URL_"  # SMALLCAPS_URL_FRED=http://127.0.0.1:8000/fred, ...


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
    urls : mapping of str to str
        Endpoint overrides by lower-case name (``fred``, ``french``, ...; see the module
        docstring), from ``SMALLCAPS_URL_<NAME>``; read through :meth:`url`.
    """

    home: Path
    mirror: Path | None = None
    fred_api_key: str | None = None
    stooq_api_key: str | None = None
    urls: Mapping[str, str] = field(default_factory=dict)

    def url(self, name: str, default: str) -> str:
        """The address of endpoint ``name`` (``SMALLCAPS_URL_<NAME>``), else ``default``."""
        return self.urls.get(name.lower()) or default

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
            urls={
                k.removeprefix(URL_PREFIX).lower(): v
                for k, v in env.items()
                if k.startswith(URL_PREFIX) and v
            },
        )
