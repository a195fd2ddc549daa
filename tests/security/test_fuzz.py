"""Schemathesis against each service's ``/openapi.json``, in process (WSGI),
authenticated as an admin, a bounded number of examples per operation: no 5xx,
and every response matches the status codes, content types and schemas the
document declares."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from berth.common.auth import Authenticator, JwksKeys
from berth.common.signing import Signer, generate_key
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import INTERNAL, ISSUER, NoRegistry, RecordingBus


@schemathesis.check
def no_crash(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx except a 503 for a dependency that is down (the syncer's registry
    is, on purpose); status_code_conformance then requires it be documented."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"server error {response.status_code}")
    return None


CHECKS = [no_crash, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 8
SIGNER = Signer([generate_key("ES256")])


def admin_jwt(uid: int = 1, username: str = "root") -> str:
    now = int(time.time())
    token, _ = SIGNER.sign({"iss": ISSUER, "aud": "berth-api", "sub": username,
                            "uid": uid, "adm": True, "bot": False, "iat": now,
                            "nbf": now}, lifetime=3600)
    return token


def static_auth() -> Authenticator:
    return Authenticator(keys=JwksKeys(static=SIGNER.public_keys()), credentials=None,
                         internal_secret=INTERNAL, issuer=ISSUER)


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def token_app(fuzz_home: Path) -> Any:
    from tests.security.conftest import make_token_app, token_config

    app = make_token_app(token_config(fuzz_home / "token", "http://127.0.0.1:9",
                                      "http://127.0.0.1:9",
                                      f"sqlite:///{fuzz_home / 'token.sqlite'}"), SIGNER)
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="root", email="root@example.test",
                         password="root-password-1", admin=True)
        session.commit()
    return app


@pytest.fixture(scope="module")
def catalog_app(fuzz_home: Path) -> Any:
    from berth.catalog.app import create_app
    from berth.catalog.config import CatalogConfig
    from berth.common.config import load

    return create_app(load(CatalogConfig, {
        "BERTH_HOME": str(fuzz_home), "BERTH_INTERNAL_SECRET": INTERNAL,
        "BERTH_TOKEN_ISSUER": ISSUER, "BERTH_LOG_LEVEL": "WARNING"},
        database_url=f"sqlite:///{fuzz_home / 'catalog.sqlite'}"),
        authenticator=static_auth(), bus=RecordingBus(),  # type: ignore[arg-type]
        registry_ops=NoRegistry(), create_schema=True)


@pytest.fixture(scope="module")
def audit_app(fuzz_home: Path) -> Any:
    from berth.audit.app import create_app
    from berth.audit.config import AuditConfig
    from berth.common.config import Secret, load

    config = load(AuditConfig, {}, home=fuzz_home / "audit",
                  database_url=f"sqlite:///{fuzz_home / 'audit.sqlite'}",
                  anchor_key=Secret("a" * 64), internal_secret=Secret(INTERNAL),
                  token_issuer=ISSUER, log_level="WARNING")
    from berth.audit.models import OUTBOX
    from berth.common.runtime import build_runtime

    runtime = build_runtime(config, service="audit", database_url=config.database_url,
                            outbox_table=OUTBOX)
    from berth.audit.schema import upgrade_engine

    upgrade_engine(runtime.engine)
    return create_app(config, authenticator=static_auth(), runtime=runtime)


@pytest.fixture(scope="module")
def syncer_app(fuzz_home: Path) -> Any:
    from berth.common.migrations import upgrade
    from berth.syncer.__main__ import MIGRATIONS
    from berth.syncer.app import create_app
    from berth.syncer.config import load_config

    config = load_config({"BERTH_HOME": str(fuzz_home / "syncer")},
                         database_url=f"sqlite:///{fuzz_home / 'syncer.sqlite'}",
                         internal_secret=INTERNAL, token_issuer=ISSUER,
                         registry_notification_secret="notify-secret",
                         registry_service="registry.test:5000",
                         registry_url="http://127.0.0.1:9", registry_timeout=1.0,
                         log_level="WARNING")
    app = create_app(config, authenticator=static_auth())
    upgrade(MIGRATIONS, app.extensions["berth.syncer"].runtime.engine, "syncer")
    return app


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck), database=None)
HEADERS = {"Authorization": f"Bearer {admin_jwt()}"}


def fuzz(app: Any) -> None:
    """Every operation of ``app``'s document; all failures reported together."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @FUZZ
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(headers=HEADERS, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's finding
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 0
    assert not failures, "\n\n".join(failures)


def test_token_api(token_app: Any) -> None:
    fuzz(token_app)


def test_catalog_api(catalog_app: Any) -> None:
    fuzz(catalog_app)


def test_audit_api(audit_app: Any) -> None:
    fuzz(audit_app)


def test_syncer_api(syncer_app: Any) -> None:
    fuzz(syncer_app)
