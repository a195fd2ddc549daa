"""Webhook collaborators built from the config (app factory and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from berth.catalog.config import CatalogConfig
from berth.catalog.webhooks.crypto import Vault, load_fernet
from berth.catalog.webhooks.dispatcher import RetryPolicy
from berth.catalog.webhooks.ssrf import AddressPolicy

EXTENSION = "berth.catalog.webhooks"


@dataclass(frozen=True)
class WebhookRuntime:
    """What the webhook views and the worker share."""

    vault: Vault
    addresses: AddressPolicy
    retry: RetryPolicy


def webhook_runtime(config: CatalogConfig) -> WebhookRuntime:
    """Read (or generate) the key and the address and retry policies."""
    key = config.webhook_secret_key.reveal() if config.webhook_secret_key else ""
    return WebhookRuntime(
        vault=Vault(load_fernet(key, config.home)),
        addresses=AddressPolicy(config.webhook_allowed_networks),
        retry=RetryPolicy(max_attempts=config.webhook_max_attempts,
                          base=config.webhook_backoff, cap=config.webhook_backoff_max))
