"""A real slapd for tests: its own config, data and port, torn down afterwards.

Reusable from other suites: ``from ldap_server import run_slapd`` with this
directory on ``sys.path``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
BASE = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "admin-secret"
SERVICE_DN = f"cn=reader,{BASE}"
SERVICE_PW = "reader-secret"


@dataclass(frozen=True)
class LdapServer:
    """Where the test directory listens and who can bind."""

    host: str
    port: int
    base: str = BASE
    root_dn: str = ROOT_DN
    root_pw: str = ROOT_PW
    service_dn: str = SERVICE_DN
    service_pw: str = SERVICE_PW

    @property
    def url(self) -> str:
        """``ldap://host:port``."""
        return f"ldap://{self.host}:{self.port}"

    def add(self, ldif: str) -> None:
        """``ldapadd`` the entries of ``ldif`` as the root DN."""
        subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", self.root_dn,
                        "-w", self.root_pw], input=ldif.encode(), check=True,
                       capture_output=True, timeout=20)


def available() -> bool:
    """True when slapd and ldapadd are installed."""
    return Path(SLAPD).exists() and shutil.which("ldapadd") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def default_entries(base: str = BASE) -> str:
    """The base, people and admins units, a read-only service account, two users
    (``jane`` in people, ``boss`` in admins) with password ``secret-<uid>``."""
    return f"""dn: {base}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=admins,{base}
objectClass: organizationalUnit
ou: admins

dn: {SERVICE_DN}
objectClass: person
cn: reader
sn: reader
userPassword: {SERVICE_PW}

dn: uid=jane,ou=people,{base}
objectClass: inetOrgPerson
uid: jane
cn: Jane Doe
sn: Doe
mail: jane@example.org
userPassword: secret-jane

dn: uid=boss,ou=admins,{base}
objectClass: inetOrgPerson
uid: boss
cn: The Boss
sn: Boss
userPassword: secret-boss
"""


@contextmanager
def run_slapd(workdir: Path, *, entries: str | None = None) -> Iterator[LdapServer]:
    """Start slapd on a free loopback port with a temporary config and database."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    conf = workdir / "slapd.conf"
    conf.write_text(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {workdir}/slapd.pid
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {data}
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
""")
    port = _free_port()
    server = LdapServer(host="127.0.0.1", port=port)
    proc = subprocess.Popen([SLAPD, "-f", str(conf), "-h", server.url + "/", "-d", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"slapd did not start: {err[-2000:]}") from None
                time.sleep(0.05)
        server.add(entries if entries is not None else default_entries())
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
