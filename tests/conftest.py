"""Shared fixtures and the hypothesis profiles.

Profiles: ``default`` keeps the everyday run fast; ``property`` (``nox -s property``)
runs many more examples.  Select one with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings

from desk_support import ROUTING_CONFIG
from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.desk import ServiceDesk
from pelayanan.privacy import PrivacySettings, Vault, generate_master_key
from pelayanan.routing import RoutingConfig, routing_config_from_dict
from pelayanan.sop import SOP, load_sop
from pelayanan.store import MemoryStore, SQLiteStore, Store
from pelayanan.testing import FakeClock

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "property", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="session")
def complaint_sop() -> SOP:
    """The example complaint SOP."""
    return load_sop(EXAMPLES / "sop" / "pengaduan.yaml")


@pytest.fixture(scope="session")
def ledger_key() -> SigningKey:
    """One ledger key for the session (key generation is cheap, but not free)."""
    return generate_key_pair()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock on Monday 6 July 2026, 08:00 WIB."""
    return FakeClock(dt.datetime(2026, 7, 6, 8, 0, tzinfo=WIB))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation in turn."""
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "t.db")
    yield made
    made.close()


@pytest.fixture
def desk(store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
    """A complaint desk over each store."""
    return ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=clock)


@pytest.fixture
def staff() -> dict[str, Actor]:
    """Actors for the complaint SOP's roles."""
    return {
        "citizen": Actor("warga-1", {"citizen"}),
        "verifier": Actor("ver-1", {"verifier"}, "unit-pengaduan"),
        "verifier2": Actor("ver-2", {"verifier"}, "unit-pengaduan"),
        "supervisor": Actor("kepala-1", {"supervisor"}, "unit-pengaduan"),
        "officer": Actor("petugas-1", {"officer"}, "dinas-pu"),
        "officer_supervisor": Actor("petugas-2", {"officer", "supervisor"}, "dinas-pu"),
    }


@pytest.fixture
def routing_config() -> RoutingConfig:
    """The test routing configuration (`desk_support.ROUTING_CONFIG`)."""
    return routing_config_from_dict(ROUTING_CONFIG)


@pytest.fixture
def rdesk(
    store: Store,
    complaint_sop: SOP,
    ledger_key: SigningKey,
    clock: FakeClock,
    routing_config: RoutingConfig,
) -> ServiceDesk:
    """A complaint desk with the test routing configuration, over each store."""
    return ServiceDesk(
        store, sops=[complaint_sop], signing_key=ledger_key, clock=clock, routing=routing_config
    )


@pytest.fixture(scope="session")
def master_key() -> bytes:
    """One vault master key for the session."""
    return generate_master_key()


@pytest.fixture
def pdesk(
    store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock, master_key: bytes
) -> ServiceDesk:
    """A complaint desk with a vault, over each store."""
    return ServiceDesk(
        store,
        sops=[complaint_sop],
        signing_key=ledger_key,
        clock=clock,
        privacy=PrivacySettings(vault=Vault(master_key)),
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database made by ``pelayanan demo`` (keys and officer directory beside it), per module."""
    from click.testing import CliRunner

    from pelayanan.cli._main import cli

    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db
