"""The personal-data side of ``pelayanan demo``: realistic citizens and a privacy showcase.

Citizens are generated deterministically from the demo seed: Indonesian names, NIKs with
the real structure (province, regency and district code of Kota Bandung, birth date with
40 added to the day for women, a serial number), +62 8xx mobile numbers and street
addresses.  They are invented: any match with a real person is a coincidence.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import attrs

from pelayanan.access import Actor
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import ErasureRefusedError, PermissionDeniedError
from pelayanan.privacy import DATA_PROTECTION_OFFICER

__all__ = ["PrivacyShowcase", "make_citizens", "privacy_showcase"]

_MEN = ["Budi", "Agus", "Andi", "Rizky", "Dedi", "Hendra", "Fajar", "Yusuf", "Rudi", "Bambang"]
_WOMEN = ["Siti", "Dewi", "Sri", "Rina", "Nur", "Ayu", "Putri", "Indah", "Fitri", "Wulan"]
_MIDDLE = ["", "", "Dwi", "Eka", "Tri", "Nur", "Adi", "Sari", "Ahmad", "Putra"]
_FAMILY_MEN = ["Santoso", "Wijaya", "Saputra", "Hidayat", "Nugroho", "Setiawan", "Pratama"]
_FAMILY_WOMEN = ["Rahmawati", "Lestari", "Handayani", "Puspitasari", "Wulandari", "Anggraini"]
_STREETS = ["Merdeka", "Diponegoro", "Cihampelas", "Dago", "Buah Batu", "Soekarno-Hatta"]
_KELURAHAN = ["Cihapit", "Lebakgede", "Sukajadi", "Cipedes", "Turangga", "Margahayu Utara"]
# Telkomsel, Indosat and XL mobile prefixes after +62 8.
_OPERATORS = ["11", "12", "13", "21", "22", "52", "53", "14", "15", "16", "56", "57", "17", "18"]
#: Kota Bandung: province 32, regency 73; districts (kecamatan) 01-30.
_REGION = "3273"


def _nik(rng: random.Random, female: bool, serials: dict[str, int]) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 55))
    district = rng.randint(1, 30)
    day = born.day + (40 if female else 0)
    prefix = f"{_REGION}{district:02d}{day:02d}{born.month:02d}{born.year % 100:02d}"
    serials[prefix] = serials.get(prefix, 0) + 1
    return f"{prefix}{serials[prefix]:04d}"


def make_citizens(seed: int, count: int = 30) -> list[dict[str, str]]:
    """Return *count* invented citizens (nama, nik, telepon, alamat), deterministic per seed."""
    rng = random.Random(f"citizens-{seed}")  # noqa: S311 - invented people, not secrets
    serials: dict[str, int] = {}
    people = []
    for _ in range(count):
        female = rng.random() < 0.5
        first = rng.choice(_WOMEN if female else _MEN)
        middle = rng.choice(_MIDDLE)
        family = rng.choice(_FAMILY_WOMEN if female else _FAMILY_MEN)
        name = " ".join(part for part in (first, middle, family) if part)
        digits = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((7, 8))))
        address = (
            f"Jl. {rng.choice(_STREETS)} No. {rng.randint(1, 250)}, "
            f"RT {rng.randint(1, 12):03d}/RW {rng.randint(1, 9):03d}, "
            f"Kel. {rng.choice(_KELURAHAN)}, Kota Bandung"
        )
        people.append(
            {
                "nama": name,
                "nik": _nik(rng, female, serials),
                "telepon": f"+628{rng.choice(_OPERATORS)}{digits}",
                "alamat": address,
            }
        )
    return people


@attrs.frozen
class PrivacyShowcase:
    """What the demo did with personal data after the simulated weeks."""

    subjects: int
    revealed: str
    reveal_refused: str
    held: str
    hold_refusal: str
    erased: str


def privacy_showcase(desk: ServiceDesk, staff: dict[str, list[Actor]]) -> PrivacyShowcase:
    """Reveal, refuse a reveal, hold one subject, erase another; everything is recorded."""
    store: Any = desk.store
    subjects = store.vault_subjects()
    requests = [r for r in store.requests() if "subject" in r.meta]
    dpo = Actor("199106062017032008", {DATA_PROTECTION_OFFICER}, "ppid")
    verifier = staff["verifier"][0]
    first = requests[0]
    desk.reveal(first.id, "telepon", actor=verifier, purpose="Klarifikasi aduan lewat telepon")
    refused = ""
    try:
        desk.reveal(first.id, "nama", actor=staff["officer"][0], purpose="Ingin tahu")
    except PermissionDeniedError as exc:
        refused = f"{staff['officer'][0].id} on {first.id} ({exc.rule})"
    held_subject = requests[1].meta["subject"]
    desk.place_legal_hold(actor=dpo, reason="Perkara pungli dalam penyidikan", subject=held_subject)
    hold_refusal = ""
    try:
        desk.erase_subject(held_subject, actor=dpo, reason="Permohonan penghapusan PDP-2026-014")
    except ErasureRefusedError as exc:
        hold_refusal = exc.rule
    erased_subject = next(
        r.meta["subject"]
        for r in reversed(requests)
        if r.closed and r.meta["subject"] != held_subject
    )
    desk.erase_subject(erased_subject, actor=dpo, reason="Permohonan penghapusan PDP-2026-015")
    return PrivacyShowcase(
        subjects=len(subjects),
        revealed=f"telepon of {first.id} by {verifier.id}",
        reveal_refused=refused,
        held=held_subject,
        hold_refusal=hold_refusal,
        erased=erased_subject,
    )
