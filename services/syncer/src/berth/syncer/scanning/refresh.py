"""``python -m berth.syncer osv-refresh``: download OSV's per-ecosystem
exports (``<url>/<ecosystem>/all.zip``) into ``BERTH_OSV_DIR``.

Each ecosystem is replaced as a whole, and only once its archive was read
completely: a failed download leaves the previous advisories in place.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests
import structlog
from berth.common.http import make_session
from berth.syncer.config import SyncerConfig
from berth.syncer.scanning.osv import REFRESHED_MARK, AdvisoryDatabase

log = structlog.get_logger(__name__)
CHUNK = 1024 * 1024


class RefreshFailed(Exception):
    """An export could not be downloaded or read."""


def _download(http: requests.Session, url: str, into: Path) -> None:
    try:
        with http.get(url, stream=True) as resp:
            if resp.status_code != 200:
                raise RefreshFailed(f"GET {url}: HTTP {resp.status_code}")
            with into.open("wb") as out:
                for chunk in resp.iter_content(CHUNK):
                    out.write(chunk)
    except requests.RequestException as exc:
        raise RefreshFailed(f"GET {url}: {type(exc).__name__}: {exc}") from exc


def _extract(archive: Path, target: Path) -> int:
    count = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = Path(info.filename).name  # flat: no path from the archive is trusted
                if info.is_dir() or not name.endswith(".json"):
                    continue
                with zf.open(info) as src, (target / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                count += 1
    except zipfile.BadZipFile as exc:
        raise RefreshFailed(f"{archive.name}: not a zip archive") from exc
    return count


def refresh(config: SyncerConfig, http: requests.Session | None = None) -> dict[str, int]:
    """Download every configured ecosystem; documents per ecosystem."""
    http = http or make_session(timeout=(5.0, 120.0), retries=2)
    root = config.osv_dir
    root.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for ecosystem in config.osv_ecosystems:
        with tempfile.TemporaryDirectory(dir=root, prefix=".refresh-") as tmp:
            work = Path(tmp)
            archive = work / "all.zip"
            _download(http, f"{config.osv_url.rstrip('/')}/{quote(ecosystem)}/all.zip",
                      archive)
            staged = work / "docs"
            staged.mkdir()
            counts[ecosystem] = _extract(archive, staged)
            final = root / ecosystem
            old = work / "old"
            if final.exists():
                final.rename(old)
            staged.rename(final)
        log.info("osv_ecosystem_refreshed", ecosystem=ecosystem,
                 documents=counts[ecosystem])
    (root / REFRESHED_MARK).write_text(datetime.now(UTC).isoformat(timespec="seconds"))
    return counts


def main(config: SyncerConfig) -> int:
    """The command: 0 when every ecosystem was refreshed, 1 otherwise."""
    try:
        counts = refresh(config)
    except (RefreshFailed, OSError) as exc:
        database = AdvisoryDatabase(config.osv_dir).peek()
        print(f"osv-refresh failed: {exc}\n"
              f"the advisories in {config.osv_dir} were left as they were "
              f"({database['documents']} documents, updated {database['updated_at']})",
              file=sys.stderr)
        return 1
    total = sum(counts.values())
    print(f"osv-refresh: {total} advisories in {config.osv_dir} "
          + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0
