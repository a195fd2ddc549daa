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
    tls_port: int | None = None       # ldaps:// when started with tls=True
    ca_file: str | None = None        # the CA that signed the server certificate
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


def write_tls_files(workdir: Path, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ``host``: (ca, cert, key) PEM paths."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = (workdir / "ca.pem", workdir / "server.pem", workdir / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


@contextmanager
def run_slapd(workdir: Path, *, entries: str | None = None,
              tls: bool = False) -> Iterator[LdapServer]:
    """Start slapd on a free loopback port with a temporary config and database
    (and, with ``tls``, StartTLS plus an ldaps:// port, certificates made here)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    conf = workdir / "slapd.conf"
    tls_conf = ""
    ca_file = None
    if tls:
        ca, cert, key = write_tls_files(workdir)
        ca_file = str(ca)
        tls_conf = (f"TLSCACertificateFile {ca}\nTLSCertificateFile {cert}\n"
                    f"TLSCertificateKeyFile {key}\n")
    conf.write_text(tls_conf + f"""include /etc/ldap/schema/core.schema
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
    tls_port = _free_port() if tls else None
    server = LdapServer(host="127.0.0.1", port=port, tls_port=tls_port, ca_file=ca_file)
    urls = server.url + "/" + (f" ldaps://127.0.0.1:{tls_port}/" if tls_port else "")
    proc = subprocess.Popen([SLAPD, "-f", str(conf), "-h", urls, "-d", "0"],
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
