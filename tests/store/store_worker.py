"""A writer process for the store contract tests (run as a script, never collected).

Usage::

    store_worker.py append LOCATION KEY_PEM LEDGER N TAG
        append N plain entries to LEDGER; print "SEQ TAG-I" after each commit
    store_worker.py bump LOCATION KEY_PEM REQUEST N
        N versioned updates of REQUEST, reloading and retrying on a version conflict;
        print "VERSION" after each commit and "CONFLICTS C" at the end
    store_worker.py desk LOCATION KEY_PEM SOP_YAML TAG
        submit and verify complaints through a ServiceDesk forever; print
        "SEQ REQUEST ACTION" after each acknowledged call (the crash test kills it)

Every line is flushed as soon as the store has acknowledged the write.
"""

from __future__ import annotations

import datetime as dt
import sys

import attrs

from pelayanan.access import Actor
from pelayanan.audit.keys import load_private_key
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import ConcurrentModificationError
from pelayanan.sop import load_sop
from pelayanan.store import open_store
from pelayanan.testing import FakeClock

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """Run one worker mode."""
    mode, location, key_path, *rest = argv
    key = load_private_key(key_path)
    store = open_store(location)
    try:
        if mode == "append":
            ledger, count, tag = rest[0], int(rest[1]), rest[2]
            for i in range(count):
                body = {"time": "2026-07-06T01:00:00.000000Z", "kind": "test", "n": f"{tag}-{i}"}
                result = store.append(ledger, body, time=T0, sign=lambda c: c.sign(key))
                _say(f"{result.seq} {tag}-{i}")
        elif mode == "bump":
            request_id, count = rest[0], int(rest[1])
            conflicts = 0
            done = 0
            while done < count:
                record = store.get_request(request_id)
                assert record is not None
                updated = attrs.evolve(record, version=record.version + 1)
                body = {"time": "2026-07-06T01:00:00.000000Z", "kind": "bump", "v": updated.version}
                try:
                    store.append(
                        record.ledger,
                        body,
                        time=T0,
                        request=updated,
                        expected_version=record.version,
                        sign=lambda c: c.sign(key),
                    )
                except ConcurrentModificationError:
                    conflicts += 1
                    continue
                done += 1
                _say(str(updated.version))
            _say(f"CONFLICTS {conflicts}")
        elif mode == "desk":
            sop_path, tag = rest[0], rest[1]
            desk = ServiceDesk(
                store, sops=[load_sop(sop_path)], signing_key=key, clock=FakeClock(T0)
            )
            citizen = Actor("warga-1", {"citizen"})
            verifier = Actor("ver-1", {"verifier"}, "unit-pengaduan")
            i = 0
            while True:
                rid = f"{tag}-{i}"
                data = {"subject": f"jalan rusak {i}", "category": "infrastruktur"}
                sub = desk.submit("pengaduan-umum", actor=citizen, data=data, request_id=rid)
                _say(f"{sub.seq} {rid} submit")
                ver = desk.act(rid, "verify", actor=verifier)
                _say(f"{ver.seq} {rid} verify")
                i += 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
