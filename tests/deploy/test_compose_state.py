"""The compose stack's MySQL initialisation and nginx ingress, run for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from berth.common.testing import MYSQL_ADMIN_URL
from berth.devstack.layout import SERVICES
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from tests.deploy.manifests import (
    MIGRATED,
    NGINX_TEMPLATE,
    ROOT,
    compose,
    environment,
    port_of,
)

MYSQL_INIT = ROOT / "deploy" / "compose" / "mysql" / "10-berth-databases.sh"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


# ------------------------------------------------------------------ mysql


def test_mysql_passwords_match_the_database_urls() -> None:
    services = compose({"BERTH_CATALOG_DB_PASSWORD": "s3cret"})["services"]
    mysql = environment(services["mysql"])
    assert "/docker-entrypoint-initdb.d/10-berth-databases.sh" in \
        " ".join(services["mysql"]["volumes"])
    for svc in MIGRATED:
        url = urlsplit(environment(services[f"{svc}-migrate"])
                       [f"BERTH_{svc.upper()}_DATABASE_URL"])
        assert url.scheme == "mysql+pymysql"
        assert (url.hostname, url.port) == ("mysql", 3306)
        assert url.username == f"berth_{svc}" and url.path == f"/berth_{svc}"
        assert url.password == mysql[f"BERTH_{svc.upper()}_DB_PASSWORD"]
    assert mysql["BERTH_CATALOG_DB_PASSWORD"] == "s3cret"


@pytest.fixture
def mysql_admin() -> str:
    if shutil.which("mysql") is None:
        pytest.skip("no mysql client")
    engine = create_engine(MYSQL_ADMIN_URL)
    try:
        with engine.connect():
            pass
    except OperationalError:
        pytest.skip("MySQL/MariaDB is not running")
    finally:
        engine.dispose()
    return MYSQL_ADMIN_URL


def test_mysql_init_creates_one_isolated_database_per_service(mysql_admin: str) -> None:
    admin = urlsplit(mysql_admin)
    prefix = f"bdt_{uuid.uuid4().hex[:6]}_"
    passwords = {svc: uuid.uuid4().hex for svc in MIGRATED}
    env = {**os.environ, "BERTH_DB_PREFIX": prefix, "MYSQL_PWD": admin.password or "",
           "BERTH_MYSQL_CLIENT": f"mysql -h{admin.hostname} -P{admin.port or 3306} "
                                 f"-u{admin.username}"}
    env.update({f"BERTH_{s.upper()}_DB_PASSWORD": p for s, p in passwords.items()})
    root = create_engine(mysql_admin)
    try:
        for _ in range(2):  # a second run (restarted container) changes nothing
            result = subprocess.run(["bash", str(MYSQL_INIT)], env=env, text=True,
                                    capture_output=True, timeout=60, check=False)
            assert result.returncode == 0, result.stderr
        for svc, password in passwords.items():
            name = prefix + svc
            url = f"mysql+pymysql://{name}:{password}@{admin.hostname}:{admin.port or 3306}/{name}"
            engine = create_engine(url)
            try:
                with engine.begin() as conn:
                    conn.execute(text("CREATE TABLE t (id INT PRIMARY KEY)"))
                    collation = conn.execute(text(
                        "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                        "WHERE SCHEMA_NAME = :n"), {"n": name}).scalar()
                    assert collation == "utf8mb4_bin"
                    other = prefix + next(s for s in MIGRATED if s != svc)
                    with pytest.raises((OperationalError, ProgrammingError),
                                       match="denied"):
                        conn.execute(text(f"SELECT 1 FROM `{other}`.t"))
            finally:
                engine.dispose()
    finally:
        with root.begin() as conn:
            for svc in MIGRATED:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{prefix}{svc}`"))
                conn.execute(text(f"DROP USER IF EXISTS '{prefix}{svc}'@'%'"))
        root.dispose()


def test_mysql_init_refuses_a_missing_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DB_PASSWORD")}
    env["BERTH_MYSQL_CLIENT"] = "cat"  # never reached
    result = subprocess.run(["bash", str(MYSQL_INIT)], env=env, text=True,
                            capture_output=True, timeout=30, check=False)
    assert result.returncode != 0
    assert "BERTH_TOKEN_DB_PASSWORD" in result.stderr


# ------------------------------------------------------------------ nginx


def _ingress() -> dict[str, object]:
    service: dict[str, object] = compose()["services"]["ingress"]
    return service


def envsubst(template: str, env: dict[str, str], pattern: str) -> str:
    """The nginx image's template step: envsubst of defined variables matching
    NGINX_ENVSUBST_FILTER only."""
    wanted = {k: v for k, v in env.items() if re.search(pattern, k)}
    return _PLACEHOLDER.sub(lambda m: wanted.get(m.group(1), m.group(0)), template)


def test_ingress_uses_the_one_template_replacing_the_default_server() -> None:
    volumes = _ingress()["volumes"]
    target = "/etc/nginx/templates/default.conf.template"
    assert volumes == [f"./{NGINX_TEMPLATE.relative_to(ROOT)}:{target}:ro"]


def test_every_template_placeholder_is_defined_and_filtered() -> None:
    env = environment(_ingress())
    template = NGINX_TEMPLATE.read_text()
    rendered = envsubst(template, env, env["NGINX_ENVSUBST_FILTER"])
    assert "${" not in rendered
    # nginx's own variables survive the filter.
    for var in ("$http_host", "$remote_addr", "$proxy_add_x_forwarded_for", "$scheme"):
        assert var in rendered
    assert env["BERTH_LISTEN"] == "8080"
    assert _ingress()["ports"] == ["0.0.0.0:8080:8080"]
    for part in ("registry", *SERVICES):
        assert env[f"BERTH_UPSTREAM_{part.upper()}"] == f"{part}:{port_of(part)}"


def test_rendered_ingress_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed")
    env = environment(_ingress())
    # nginx resolves upstream names while testing: the compose service names
    # exist only on the compose network, so they become loopback here.
    local = {k: (re.sub(r"^[a-z]+:", "127.0.0.1:", v) if k.startswith("BERTH_UPSTREAM_")
                 else v) for k, v in env.items()}
    rendered = envsubst(NGINX_TEMPLATE.read_text(), local, env["NGINX_ENVSUBST_FILTER"])
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "default.conf").write_text(rendered)
    # What the official image's nginx.conf wraps conf.d/*.conf in.
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log stderr;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    access_log off;
    include {tmp_path}/conf.d/*.conf;
}}
""")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c",
                             str(tmp_path / "nginx.conf")], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
