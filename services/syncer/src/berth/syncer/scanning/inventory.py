"""What is installed in an image: packages and the OS, read from the files
package managers leave behind (dpkg, apk, Python metadata, os-release)."""

from __future__ import annotations

import email.parser
import re
from dataclasses import dataclass, field

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d/"
APK_INSTALLED = "lib/apk/db/installed"
OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
_DIST_INFO = re.compile(r"(^|/)[^/]+\.dist-info/METADATA$")
_EGG_INFO = re.compile(r"(^|/)[^/]+\.egg-info(/PKG-INFO)?$")


@dataclass(frozen=True)
class Package:
    """One installed package."""

    kind: str            # "deb", "apk" or "pypi"
    name: str
    version: str
    source: str | None = None     # dpkg source package (Debian advisories use it)
    path: str = ""                # the file it was found in

    def to_dict(self) -> dict[str, str | None]:
        """A JSON-ready form."""
        return {"kind": self.kind, "name": self.name, "version": self.version,
                "source": self.source, "path": self.path}


@dataclass
class Inventory:
    """The final image's packages and OS release."""

    packages: list[Package] = field(default_factory=list)
    os_release: dict[str, str] = field(default_factory=dict)

    @property
    def os_id(self) -> str:
        """``debian``, ``ubuntu``, ``alpine``… (empty when unknown)."""
        return self.os_release.get("ID", "").lower()

    @property
    def os_version(self) -> str:
        """``VERSION_ID`` of the OS (empty when unknown)."""
        return self.os_release.get("VERSION_ID", "")

    @property
    def os_name(self) -> str:
        """A human name of the OS."""
        return self.os_release.get("PRETTY_NAME") or " ".join(
            p for p in (self.os_id, self.os_version) if p)


def is_interesting(path: str) -> bool:
    """Whether a file at ``path`` (no leading ``/``) feeds the inventory."""
    if path in (DPKG_STATUS, APK_INSTALLED) or path in OS_RELEASE:
        return True
    if path.startswith(DPKG_STATUS_D):
        rest = path[len(DPKG_STATUS_D):]
        return bool(rest) and "/" not in rest and not rest.endswith(".md5sums")
    return bool(_DIST_INFO.search(path) or _EGG_INFO.search(path))


def _stanzas(text: str) -> list[dict[str, str]]:
    """RFC 822-like paragraphs (dpkg status, apk's ``X:value`` lines)."""
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
            current, last = {}, ""
            continue
        if line[0] in " \t" and last:
            continue  # continuation lines (descriptions) are never needed
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            current[last] = value.strip()
    if current:
        out.append(current)
    return out


def parse_dpkg_status(text: str, path: str) -> list[Package]:
    """Installed packages of a dpkg status file (or one status.d entry)."""
    packages = []
    for st in _stanzas(text):
        name, version = st.get("Package"), st.get("Version")
        # status.d entries (distroless) carry no Status field: they are installed.
        status = st.get("Status", "install ok installed").split()
        if not name or not version or status[-1:] != ["installed"]:
            continue
        source = st.get("Source", "").split(" ")[0] or None
        # "Source: foo (1.2-3)": the source version differs, the name is what matters.
        packages.append(Package("deb", name, version, source or name, path))
    return packages


def parse_apk_installed(text: str, path: str) -> list[Package]:
    """Installed packages of apk's database (``P:`` name, ``V:`` version)."""
    packages = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if len(line) > 2 and line[1] == ":" and line[0] not in fields:
                fields[line[0]] = line[2:].strip()
        if fields.get("P") and fields.get("V"):
            packages.append(Package("apk", fields["P"], fields["V"],
                                    fields.get("o") or fields["P"], path))
    return packages


def parse_python_metadata(text: str, path: str) -> list[Package]:
    """One distribution from ``METADATA`` / ``PKG-INFO`` headers."""
    headers = email.parser.Parser().parsestr(text, headersonly=True)
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        return []
    return [Package("pypi", str(name).strip(), str(version).strip(), None, path)]


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines, quotes removed."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key] = value.strip().strip("'\"")
    return out


def parse_file(path: str, data: bytes) -> list[Package] | dict[str, str]:
    """Parse an interesting file: packages, or the os-release mapping."""
    text = data.decode("utf-8", errors="replace")
    if path in OS_RELEASE:
        return parse_os_release(text)
    if path == APK_INSTALLED:
        return parse_apk_installed(text, path)
    if path == DPKG_STATUS or path.startswith(DPKG_STATUS_D):
        return parse_dpkg_status(text, path)
    return parse_python_metadata(text, path)
