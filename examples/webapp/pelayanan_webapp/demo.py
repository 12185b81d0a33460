"""Prepare a data folder for a demonstration: keys, secrets, demo users and requests."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pelayanan import Actor, Clock, generate_key_pair, generate_master_key, write_key_pair
from pelayanan.hosting import HostSettings
from pelayanan.privacy import MASTER_KEY_FILE, write_master_key
from pelayanan_webapp.service import SERVICE, build_desk
from pelayanan_webapp.users import UserTable

#: The demo accounts: username -> (employee number, name, roles, units).  Every demo
#: account's password is DEMO_PASSWORD.
DEMO_USERS: dict[str, tuple[str, str, set[str], set[str]]] = {
    "pu.verifikator": ("199001052015031002", "Rina Verifikator PU", {"verifier"}, {"dinas-pu"}),
    "pu.kepala": ("197504081998031004", "Budi Kepala Dinas PU", {"supervisor"}, {"dinas-pu"}),
    "pu.petugas": ("199203302019031005", "Agus Petugas PU", {"officer"}, {"dinas-pu"}),
    "lh.verifikator": ("198811202012122003", "Tono Verifikator LH", {"verifier"}, {"dinas-lh"}),
    "lh.petugas": ("199405172020122006", "Sari Petugas LH", {"officer"}, {"dinas-lh"}),
    "auditor": ("auditor-inspektorat-1", "Dewi Auditor", {"auditor"}, set()),
}
DEMO_PASSWORD = "rahasia-demo"  # noqa: S105 - the documented demo password

DEMO_COMPLAINTS = (
    {
        "subject": "Jalan berlubang di Jl. Merdeka",
        "category": "infrastruktur",
        "region": "32.73.02",
    },
    {"subject": "Sampah menumpuk di pasar", "category": "kebersihan", "region": "32.73.05"},
    {"subject": "Drainase tersumbat", "category": "infrastruktur", "region": "32.73.10"},
)


def prepare_data_dir(data: Path) -> dict[str, str]:
    """Create the keys and the session secret in *data* (once); return the environment.

    The returned variables are what a production deployment would set itself, pointing
    at files its secret store provides.
    """
    keys = data / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    if not (keys / "ledger-private.pem").exists():
        write_key_pair(generate_key_pair(), keys)
    if not (keys / MASTER_KEY_FILE).exists():
        write_master_key(generate_master_key(), keys / MASTER_KEY_FILE)
    secret = data / "session-secret"
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return {
        "WEBAPP_DATA_DIR": str(data),
        "PELAYANAN_LEDGER": "pemkot-contoh",
        "PELAYANAN_LEDGER_KEY_FILE": str(keys / "ledger-private.pem"),
        "PELAYANAN_MASTER_KEY_FILE": str(keys / MASTER_KEY_FILE),
    }


def add_demo_users(table: UserTable) -> None:
    """Create the demo accounts (argon2-hashed passwords)."""
    for username, (actor_id, name, roles, units) in DEMO_USERS.items():
        table.add(username, DEMO_PASSWORD, actor_id=actor_id, name=name, roles=roles, units=units)


def add_demo_requests(host: HostSettings, clock: Clock) -> int:
    """Submit the demo complaints when the ledger is empty; return how many were added."""
    desk = build_desk(host, clock)
    try:
        if desk.store.head(desk.ledger).size:
            return 0
        for number, data in enumerate(DEMO_COMPLAINTS):
            citizen = Actor(f"warga-demo-{number}", {"citizen"})
            desk.submit(SERVICE, actor=citizen, data={**data, "nama": f"Warga Demo {number}"})
        return len(DEMO_COMPLAINTS)
    finally:
        desk.store.close()
