"""The catalog's runtime without its web app: engine, sessions, bus, outbox,
the policy switches and the default registry, shared by the app factory and
the workers (which so never import Flask)."""

from __future__ import annotations

from berth.catalog.config import CatalogConfig
from berth.catalog.models import OUTBOX
from berth.catalog.policy import Knobs
from berth.catalog.services.registries import RegistrySpec
from berth.common.bus import Bus
from berth.common.db import make_engine, make_sessionmaker
from berth.common.outbox import Outbox
from berth.common.runtime import Runtime


def knobs_of(config: CatalogConfig) -> Knobs:
    """The policy switches from the config."""
    return Knobs(
        delete_enabled=config.delete_enabled,
        delete_contributors=config.delete_contributors,
        push_policy=config.push_policy,
        anonymous_browsing=config.anonymous_browsing,
        create_team=config.create_team, manage_team=config.manage_team,
        create_namespace=config.create_namespace,
        manage_namespace=config.manage_namespace,
        change_visibility=config.change_visibility,
        create_webhook=config.create_webhook, manage_webhook=config.manage_webhook)


def default_registry_spec(config: CatalogConfig) -> RegistrySpec:
    """The registry the config describes."""
    hostname = config.registry_hostname
    return RegistrySpec(name=config.registry_name, hostname=hostname,
                        service=config.registry_service, url=config.registry_url,
                        use_ssl=config.registry_url.startswith("https"),
                        notification_secret=config.registry_notification_secret)


def catalog_runtime(config: CatalogConfig, bus: Bus | None = None) -> Runtime:
    """Engine, sessions, bus and outbox of the catalog (app and worker)."""
    kw = {}
    if config.database_url.startswith("mysql"):
        # insert_or_get looks up the row a concurrent writer just committed;
        # under REPEATABLE READ that lookup would still see the old snapshot.
        kw["isolation_level"] = "READ COMMITTED"
    engine = make_engine(config.database_url, **kw)
    bus = bus or Bus(config.amqp_url or None, config.home, "catalog")
    return Runtime(engine=engine, sessions=make_sessionmaker(engine), bus=bus,
                   outbox=Outbox(OUTBOX, bus, "catalog"))
