"""The desk of one worker process, built from the settings (public pelayanan API only)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pelayanan import Clock, ServiceDesk, load_sop, open_store
from pelayanan.hosting import HostSettings
from pelayanan.privacy import PrivacySettings, Vault
from pelayanan.routing import load_routing_config
from pelayanan.store import RequestRecord
from pelayanan_webapp.config import ROUTING_FILE, SOP_FILE

#: The one SOP this office runs through the web app.
SERVICE = "pengaduan-umum"


def tracking_number() -> str:
    """Return a new tracking number: hard to guess, since the status page is public."""
    return f"ADU-{secrets.token_hex(5).upper()}"


def build_desk(host: HostSettings, clock: Clock) -> ServiceDesk:
    """Open the store and build this worker's desk.

    Each worker process has its own desk and store connection (pool); the store
    serialises appends across processes, so workers never fork the log.

    Raises:
        pelayanan.PelayananError: the store cannot be opened, or the vault master key
            is not the one the store's personal data is sealed under.
    """
    store = open_store(host.store)
    privacy = None
    if host.master_key is not None:
        vault = Vault(host.master_key)
        vault.bind(store)  # refuses a store sealed under another master key
        privacy = PrivacySettings(vault=vault)
    return ServiceDesk(
        store,
        sops=[load_sop(SOP_FILE)],
        signing_key=host.signing_key,
        ledger=host.ledger,
        clock=clock,
        id_factory=tracking_number,
        routing=load_routing_config(ROUTING_FILE),
        privacy=privacy,
    )


@dataclass(frozen=True)
class SLAEvent:
    """One SLA warning, breach or escalation read from the log."""

    seq: int
    time: str
    request: str
    clock: str
    event: str
    detail: str


def _detail(entry: dict[str, Any]) -> str:
    parts = []
    if entry.get("notify"):
        parts.append("notify " + ", ".join(entry["notify"]))
    if entry.get("reassign"):
        parts.append("reassign " + ", ".join(f"{k}={v}" for k, v in entry["reassign"].items()))
    if entry.get("action"):
        parts.append(f"action {entry['action']}")
    return "; ".join(parts)


def sla_events(desk: ServiceDesk, request_ids: set[str]) -> Iterator[SLAEvent]:
    """Yield the SLA entries of the log about *request_ids*, oldest first."""
    for stored in desk.store.entries(desk.ledger):
        entry = json.loads(stored.data)
        if entry.get("kind") != "sla" or entry.get("request") not in request_ids:
            continue
        yield SLAEvent(
            stored.seq,
            entry["time"],
            entry["request"],
            entry.get("clock", ""),
            entry.get("event", ""),
            _detail(entry),
        )


def unit_requests(desk: ServiceDesk, units: frozenset[str]) -> list[RequestRecord]:
    """Return the requests held by *units*, open ones first, newest first within each."""
    mine = [r for r in desk.store.requests(ledger=desk.ledger) if r.unit in units]
    mine.sort(key=lambda r: r.created_at, reverse=True)
    mine.sort(key=lambda r: r.closed)
    return mine
