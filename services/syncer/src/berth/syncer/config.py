"""The syncer's settings, read once from the environment."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from berth.common.config import (
    CommonSettings,
    DefaultRegistrySettings,
    berth_home,
    load,
    parse_bool,
    parse_choice,
    parse_list,
    setting,
    sqlite_default,
)

STRATEGIES = ("initial", "on-start", "update", "update-delete")
OSV_EXPORTS = "https://osv-vulnerabilities.storage.googleapis.com"


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value




def _osv_dir_default(env: Mapping[str, str]) -> Path:
    return berth_home(env) / "osv"



@dataclasses.dataclass(frozen=True)
class SyncerConfig(CommonSettings, DefaultRegistrySettings):
    """Everything the syncer reads from the environment."""

    database_url: str = setting("BERTH_SYNCER_DATABASE_URL",
                                default=sqlite_default("syncer"), secret=True,
                                help="SQLAlchemy URL of the syncer's database")
    sync_interval: float = setting("BERTH_SYNC_INTERVAL", default=600.0,
                                   parse=_positive_float,
                                   help="seconds between two reconciles")
    sync_strategy: str = setting("BERTH_SYNC_STRATEGY", default="update-delete",
                                 parse=parse_choice(*STRATEGIES),
                                 help="initial | on-start | update | update-delete")
    sync_on_start: bool = setting("BERTH_SYNC_ON_START", default=True,
                                  parse=parse_bool,
                                  help="reconcile once when the worker starts")
    sync_parallelism: int = setting("BERTH_SYNC_PARALLELISM", default=8,
                                    parse=_positive_int,
                                    help="repositories listed at the same time")
    sync_page_size: int = setting("BERTH_SYNC_PAGE_SIZE", default=100,
                                  parse=_positive_int,
                                  help="n of /v2/_catalog and tags/list pages")
    sync_lock_ttl: float = setting("BERTH_SYNC_LOCK_TTL", default=120.0,
                                   parse=_positive_float,
                                   help="seconds a silent reconcile keeps its lock")
    registry_timeout: float = setting("BERTH_REGISTRY_TIMEOUT", default=30.0,
                                      parse=_positive_float,
                                      help="read timeout of registry calls (s)")
    # -- scanning (the ``scanner`` process) --------------------------------
    scanner: str = setting("BERTH_SCANNER", default="osv", parse=parse_choice("osv"),
                           help="scanner backend (osv: Berth's own, offline)")
    osv_dir: Path = setting(  # noqa: RUF009 - a field spec
        "BERTH_OSV_DIR", default=_osv_dir_default, parse=lambda v: Path(v).resolve(),
        help="directory of OSV advisories (JSON documents)")
    osv_url: str = setting("BERTH_OSV_URL", default=OSV_EXPORTS,
                           help="where osv-refresh downloads <ecosystem>/all.zip")
    osv_ecosystems: tuple[str, ...] = setting(
        "BERTH_OSV_ECOSYSTEMS", default=("Debian", "Ubuntu", "Alpine", "PyPI"),
        parse=parse_list, help="ecosystems osv-refresh downloads")
    scan_on_push: bool = setting("BERTH_SCAN_ON_PUSH", default=True, parse=parse_bool,
                                 help="scan every newly pushed manifest digest")
    scan_poll_interval: float = setting("BERTH_SCAN_POLL_INTERVAL", default=2.0,
                                        parse=_positive_float,
                                        help="seconds between looks for queued scans")
    scan_stale_after: float = setting("BERTH_SCAN_STALE_AFTER", default=1800.0,
                                      parse=_positive_float,
                                      help="seconds after which a silent scan is retried")
    scan_max_file_bytes: int = setting("BERTH_SCAN_MAX_FILE_BYTES",
                                       default=64 * 1024 * 1024, parse=_positive_int,
                                       help="largest package database file read")

    @property
    def deletes(self) -> bool:
        """Whether the configured strategy may remove what disappeared."""
        return self.sync_strategy != "update"


def load_config(environ: Mapping[str, str] | None = None, **overrides: object) -> SyncerConfig:
    """Read the syncer's configuration (keyword overrides win, for tests)."""
    return load(SyncerConfig, environ, **overrides)
