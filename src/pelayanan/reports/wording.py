"""How a report speaks to people: language, SOP labels, durations, names and sentences.

The auditor's forms (JSON, CSV, the tidy text) keep machine names; the forms a head of
unit reads (the text of ``report sla``, ``at-risk`` and ``quality``, and the HTML page)
go through a `Wording`:

* the language: Indonesian (``"id"``, the default) or English (``"en"``);
* labels from the SOPs (states, clocks and actions in both languages), falling back to
  the id;
* durations as people say them (``"2 hari 3 jam"``, ``"2 days 3 hours"``) through
  pendulum's locales, to the minute and at most two units;
* percentages and numbers with the language's decimal mark (``96,15%``);
* refusal reasons as sentences instead of rule names or error class names;
* officers by name and unit when a directory (`pelayanan.reports.directory`) is given,
  else by NIP;
* workflow order: the states of each SOP as a request meets them (breadth-first from
  the initial state along the actions, in definition order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from pelayanan.reports.directory import Directory
from pelayanan.sop import SOP

__all__ = ["LANGUAGES", "Wording", "workflow_order"]

#: The languages a report speaks, the default first.
LANGUAGES: Final = ("id", "en")

#: The fixed phrases of the summary text and the HTML page: key -> (Indonesian, English).
_PHRASES: Final[Mapping[str, tuple[str, str]]] = {
    "title": ("Laporan Pelayanan", "Service Report"),
    "summary": ("Ringkasan", "Summary"),
    "as_of": ("Keadaan per", "As of"),
    "window_all": ("semua permohonan", "all requests"),
    "window": ("diterima {start} s.d. {end}", "received {start} to {end}"),
    "requests": ("Permohonan", "Requests"),
    "received": ("diterima", "received"),
    "closed": ("selesai", "closed"),
    "open": ("masih terbuka", "still open"),
    "compliance": ("Kepatuhan SLA", "SLA compliance"),
    "compliance_line": (
        "{concluded} dari yang sudah dinilai; {overdue} bila yang lewat tenggat dihitung terlambat",
        "{concluded} of those concluded; {overdue} counting overdue ones as breached",
    ),
    "no_compliance": ("belum ada jam SLA yang selesai dinilai", "no SLA clock concluded yet"),
    "trend": ("Tren kepatuhan", "Compliance trend"),
    "up": ("naik", "rising"),
    "down": ("turun", "falling"),
    "flat": ("tetap", "steady"),
    "at_risk": ("Berisiko sekarang", "At risk now"),
    "none_at_risk": ("tidak ada", "none"),
    "risk.overdue": ("lewat tenggat", "overdue"),
    "risk.likely": ("kemungkinan besar terlambat", "likely to breach"),
    "risk.possible": ("mungkin terlambat", "may breach"),
    "risk.stalled": ("macet", "stalled"),
    "oldest": ("Permohonan terbuka tertua", "Oldest open requests"),
    "age": ("umur", "age"),
    "ikm": ("Indeks Kepuasan Masyarakat (IKM)", "Public satisfaction index (IKM)"),
    "ikm_line": (
        "{ikm}, mutu {mutu} ({kinerja}), dari {respondents} responden",
        "{ikm}, grade {mutu} ({kinerja}), from {respondents} respondents",
    ),
    "no_ikm": ("belum ada survei", "no survey yet"),
    "quality": ("Indeks kualitas layanan", "Service-quality index"),
    "no_quality": (
        "belum dapat dihitung (tidak ada data: {missing})",
        "not computed (no data: {missing})",
    ),
    "clocks": ("Kepatuhan per jam layanan", "Compliance per service clock"),
    "clock": ("jam layanan", "service clock"),
    "met": ("tepat waktu", "met"),
    "breached": ("terlambat", "breached"),
    "running": ("berjalan", "running"),
    "paused": ("dijeda", "paused"),
    "overdue": ("lewat tenggat", "overdue"),
    "compliance_concluded": ("kepatuhan (yang selesai)", "compliance (concluded)"),
    "compliance_overdue": (
        "kepatuhan (lewat tenggat = terlambat)",
        "compliance (overdue as breached)",
    ),
    "stages": (
        "Lama di tiap tahap (jam kerja, urut alur)",
        "Time in each stage (working time, in workflow order)",
    ),
    "stage": ("tahap", "stage"),
    "stays": ("kali", "stays"),
    "median": ("median", "median"),
    "p90": ("p90", "p90"),
    "max": ("terlama", "longest"),
    "backlog": ("Umur permohonan terbuka", "Age of open requests"),
    "days": ("{label} hari", "{label} days"),
    "refused": ("Upaya yang ditolak", "Refused attempts"),
    "times": ("{count} kali", "{count} times"),
    "reason": ("alasan", "reason"),
    "count": ("jumlah", "count"),
    "attribution": ("Keterlambatan per unit dan petugas", "Breaches by unit and officer"),
    "unit": ("unit", "unit"),
    "officer": ("petugas", "officer"),
    "held": ("lama memegang", "time held"),
    "breached_clocks": ("{count} jam layanan terlambat", "{count} breached clocks"),
    "still_open": ("masih berjalan", "still running"),
    "groups": ("Per {by}", "By {by}"),
    "by.service": ("layanan", "service"),
    "by.unit": ("unit", "unit"),
    "by.officer": ("petugas", "officer"),
    "by.region": ("wilayah", "region"),
    "periods": ("Per periode", "Per period"),
    "period": ("periode", "period"),
    "footer": ("Dasar teknis", "Technical basis"),
    "verdicts": ("Putusan jam SLA", "SLA clock verdicts"),
    "charts": ("Grafik", "Charts"),
    "chart.periods": ("Permohonan dan kepatuhan per periode", "Requests and compliance per period"),
    "chart.requests": ("permohonan", "requests"),
    "chart.compliance": ("kepatuhan SLA %", "SLA compliance %"),
    "chart.stages": ("Lama di tiap tahap (jam kerja)", "Time in each stage (working hours)"),
    "chart.hours": ("jam kerja", "working hours"),
    "chart.backlog": ("Umur permohonan terbuka", "Age of open requests"),
    "chart.open": ("permohonan terbuka", "open requests"),
    "chart.age": ("umur sejak diterima (hari kalender)", "age since receipt (calendar days)"),
    "chart.ikm": ("IKM per unsur (NRR 1-4)", "IKM per unsur (NRR 1-4)"),
    "quality_table": ("Komponen indeks kualitas", "Quality index components"),
    "component": ("komponen", "component"),
    "weight": ("bobot", "weight"),
    "value": ("nilai", "value"),
    "source": ("sumber", "from"),
    "nothing": ("-", "-"),
    "at_risk_title": ("Permohonan berisiko terlambat", "Requests at risk of breaching"),
    "at_risk_judged": (
        "{considered} jam layanan berjalan dinilai, {count} berisiko",
        "{considered} running clocks judged, {count} at risk",
    ),
    "reason.overdue": (
        (
            "tenggat {deadline} sudah lewat: terlambat {overdue} waktu kerja; sudah {in_state} "
            "di tahap ini"
        ),
        (
            "the deadline {deadline} has passed: {overdue} of working time overdue; {in_state} "
            "in this stage so far"
        ),
    ),
    "reason.stalled": (
        (
            "sudah {in_state} di tahap ini, lebih lama dari {samples} permohonan sebelumnya "
            "sampai jam layanan ini berhenti (riwayat tidak dapat memperkirakan sisanya); sisa "
            "waktu kerja {remaining} sebelum tenggat {deadline}"
        ),
        (
            "{in_state} in this stage already, longer than any of {samples} past requests took "
            "until this clock stopped (history cannot say how much more); {remaining} of "
            "working time remain before the deadline {deadline}"
        ),
    ),
    "reason.expected": (
        (
            "perlu sekitar {median} lagi (p90 {p90}; menurut {longer} dari {samples} "
            "permohonan sebelumnya yang masih berjalan setelah {in_state} di tahap ini, "
            "selama permohonan ini sudah di sana) padahal sisa waktu kerja {remaining} sebelum "
            "tenggat {deadline}"
        ),
        (
            "needs about {median} more (p90 {p90}; from the {longer} of {samples} past "
            "requests still running after {in_state} in this stage, as long as this one has "
            "been there) but {remaining} of working time remain before the deadline "
            "{deadline}"
        ),
    ),
    "without_history": (
        "Belum dapat dinilai (kurang dari {min} permohonan sebelumnya dari tahapnya)",
        "Not judged (fewer than {min} past requests from their stage)",
    ),
    "index": ("indeks", "index"),
    "component.sla_compliance": ("Kepatuhan SLA", "SLA compliance"),
    "component.ikm": ("IKM", "IKM"),
    "component.closure_rate": ("Tingkat penyelesaian", "Closure rate"),
    "component_line": ("bobot {weight}, nilai {value}", "weight {weight}, value {value}"),
    "note.sla_compliance": (
        "{numerator} tepat waktu dari {denominator} jam layanan yang selesai dinilai",
        "{numerator} met of {denominator} concluded clocks",
    ),
    "note.ikm": ("nilai IKM {numerator} dari {denominator}", "IKM {numerator} of {denominator}"),
    "note.closure_rate": (
        "{numerator} selesai dari {denominator} diterima",
        "{numerator} closed of {denominator} received",
    ),
    "no_data": ("belum ada data", "no data"),
    "formula": (
        "konfigurasi {version}: indeks = 100 x jumlah(bobot x nilai)",
        "configuration {version}: index = 100 x sum(weight x value)",
    ),
    "entries": ("entri {name}: {seqs}", "entries of {name}: {seqs}"),
    "and_more": ("dan {count} lainnya", "and {count} more"),
    "under_a_minute": ("kurang dari 1 menit", "under a minute"),
}

#: Refusal reasons (``reason.rule``, else ``reason.error``) as sentences; a rule's part
#: after the colon (``separation_of_duties:verify``) fills ``{detail}``.
_REFUSALS: Final[Mapping[str, tuple[str, str]]] = {
    "role": (
        "Petugas tidak memiliki peran yang boleh mengambil tindakan ini.",
        "The officer does not hold a role allowed to take this action.",
    ),
    "separation_of_duties": (
        (
            "Pemisahan tugas: petugas yang sama sudah mengambil tindakan \u201c{detail}\u201d "
            "pada permohonan ini."
        ),
        (
            "Separation of duties: the same officer already took the action \u201c{detail}\u201d "
            "on this request."
        ),
    ),
    "separation_of_duties:subject": (
        "Petugas tidak boleh menangani permohonan yang menyangkut dirinya sendiri.",
        "The officer may not handle a request about themself.",
    ),
    "delegation": (
        "Pelimpahan wewenang (Plt/Plh) tidak ada atau tidak berlaku untuk tindakan ini.",
        "No delegation (Plt/Plh) covers this action, or it is not valid at that time.",
    ),
    "unit": (
        "Petugas bukan dari unit yang memegang permohonan.",
        "The officer is not in the unit holding the request.",
    ),
    "immutable": (
        "Tindakan ini mencoba mengubah data identitas permohonan, yang tidak boleh diubah.",
        "The action tried to change the request's identifying data, which may not change.",
    ),
    "disposition": (
        "Hanya pemegang atau penerima disposisi yang boleh mengambil tindakan ini.",
        "Only the holder or addressee of the disposition may take this action.",
    ),
    "IncompleteRequestError": (
        "Data atau dokumen yang diwajibkan belum lengkap.",
        "Required data or documents were missing.",
    ),
    "InvalidFieldValueError": (
        "Isian tidak sesuai dengan jenis yang ditetapkan SOP.",
        "A value did not match the type the SOP sets.",
    ),
    "TransitionNotAllowedError": (
        "Tindakan ini tidak dapat diambil dari tahap permohonan saat itu.",
        "The action cannot be taken from the request's stage at that time.",
    ),
    "PermissionDeniedError": (
        "Petugas tidak berwenang mengambil tindakan ini.",
        "The officer was not authorised to take this action.",
    ),
}

#: pendulum's unit names, largest first, with how many seconds each holds.
_UNITS: Final = (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60))


def workflow_order(sops: Iterable[SOP]) -> dict[str, int]:
    """Return state id -> position in workflow order, over *sops* in turn.

    Each SOP's states are taken breadth-first from its initial state along its actions
    (in definition order), then any state not reached, in definition order; a state id
    shared by several SOPs keeps its first position.
    """
    order: dict[str, int] = {}
    for sop in sops:
        queue = [sop.initial]
        seen = {sop.initial}
        for state_id in queue:
            for action in sop.actions_from(state_id):
                if action.target not in seen:
                    seen.add(action.target)
                    queue.append(action.target)
        queue.extend(s.id for s in sop.states if s.id not in seen)
        for state_id in queue:
            order.setdefault(state_id, len(order))
            # A parallel state's branch stages (``<state>.<branch>``) follow it.
            parallel = sop.parallel_state(state_id)
            for branch in parallel.branches if parallel is not None else ():
                order.setdefault(f"{state_id}.{branch.name}", len(order))
    return order


def _sop_tuple(value: Iterable[SOP]) -> tuple[SOP, ...]:
    return tuple(value)


@attrs.frozen
class Wording:
    """The language, labels and names a report speaks with.

    Attributes:
        lang: ``"id"`` (default) or ``"en"``.
        sops: the SOPs whose labels to use.
        directory: NIP -> name and unit, when the host gave one.
    """

    lang: str = attrs.field(default="id", validator=attrs.validators.in_(LANGUAGES))
    sops: tuple[SOP, ...] = attrs.field(default=(), converter=_sop_tuple)
    directory: Directory | None = None

    @property
    def _index(self) -> int:
        return LANGUAGES.index(self.lang)

    def phrase(self, key: str, **values: object) -> str:
        """Return a fixed phrase in the report's language, with *values* filled in."""
        text = _PHRASES[key][self._index]
        return text.format(**values) if values else text

    # -- SOP labels ------------------------------------------------------------------

    def state(self, state_id: str) -> str:
        """Return a state's label (the first SOP that has the state), else its id.

        A parallel branch's stage (``<state>.<branch>``) reads ``state label: branch label``.
        """
        parent, _, branch_name = state_id.partition(".")
        for sop in self.sops:
            for state in sop.states:
                if state.id != parent:
                    continue
                if not branch_name:
                    return state.label_in(self.lang)
                parallel = sop.parallel_state(parent)
                for branch in parallel.branches if parallel is not None else ():
                    if branch.name == branch_name:
                        return f"{state.label_in(self.lang)}: {branch.label or branch.name}"
        return state_id

    def clock(self, name: str) -> str:
        """Return a clock's label, else its name."""
        for sop in self.sops:
            for clock in sop.clocks:
                if clock.name == name:
                    return clock.label_in(self.lang)
        return name

    def action(self, name: str) -> str:
        """Return an action's label, else its name."""
        for sop in self.sops:
            for action in sop.actions:
                if action.name == name:
                    return action.label_in(self.lang)
        return name

    def service(self, sop_id: str) -> str:
        """Return an SOP's title, else its id."""
        for sop in self.sops:
            if sop.id == sop_id:
                return sop.title
        return sop_id

    def clock_order(self) -> dict[str, int]:
        """Return clock name -> position, in the order the SOPs define their clocks."""
        order: dict[str, int] = {}
        for sop in self.sops:
            for clock in sop.clocks:
                order.setdefault(clock.name, len(order))
        return order

    def stage_order(self) -> dict[str, int]:
        """Return `workflow_order` of the wording's SOPs."""
        return workflow_order(self.sops)

    # -- people ----------------------------------------------------------------------

    def officer(self, nip: str | None) -> str:
        """Return an officer's name (with the NIP) from the directory, else the NIP."""
        if not nip or nip == "-":
            return "-"
        person = None if self.directory is None else self.directory.officers.get(nip)
        return nip if person is None else f"{person.name} ({nip})"

    def unit(self, unit: str | None) -> str:
        """Return a unit's name from the directory, else its id."""
        if not unit or unit == "-":
            return "-"
        name = None if self.directory is None else self.directory.units.get(unit)
        return unit if name is None else name

    # -- numbers and time ------------------------------------------------------------

    def number(self, value: object) -> str:
        """Return a decimal number (``0.5``, ``"96.15"``) with the language's decimal mark."""
        text = str(value)
        return text.replace(".", ",") if self.lang == "id" else text

    def percent(self, value: str | None) -> str:
        """Return a percentage string (``"96.15"``) as the language writes it, or ``-``."""
        if value is None:
            return "-"
        return self.number(value) + "%"

    def duration(self, seconds: int, *, working: bool = False) -> str:
        """Return a duration as people say it, to the minute, in at most two units.

        Args:
            seconds: the duration.
            working: it is working time: said in hours and minutes only, since a day of
                working time is not 24 hours (``"25 jam 37 menit"``, not ``"1 hari"``).

        Returns:
            E.g. ``"2 hari 3 jam"`` (calendar time) or ``"25 jam 37 menit"`` (working).
        """
        import pendulum  # noqa: PLC0415  (loaded only by the readable forms)

        left = abs(seconds) // 60 * 60
        if left == 0:
            return self.phrase("under_a_minute")
        locale = pendulum.locale(self.lang)
        words: list[str] = []
        for unit, size in _UNITS[2:] if working else _UNITS:
            if left >= size and len(words) < 2:
                count, left = divmod(left, size)
                # pendulum's own unit words; its Duration would turn 25 hours into a day.
                plural = locale.plural(count)
                words.append(locale.translation(f"units.{unit}.{plural}").format(count))
            elif words:
                break
        text = " ".join(words)
        return f"-{text}" if seconds < 0 else text

    def instant(self, instant: dt.datetime, zone: dt.tzinfo) -> str:
        """Return an instant in *zone* as people write it (``25 Juli 2026 16.30 WIB``)."""
        import pendulum  # noqa: PLC0415

        local = pendulum.instance(instant.astimezone(zone))
        pattern = "D MMMM YYYY HH.mm zz" if self.lang == "id" else "D MMMM YYYY HH:mm zz"
        return local.format(pattern, locale=self.lang)

    # -- sentences -------------------------------------------------------------------

    def refusal(self, reason: str) -> str:
        """Return a refusal reason (a rule such as ``role``, or an error class) as a sentence."""
        rule, _, detail = reason.partition(":")
        if detail.startswith("subject:"):
            rule = f"{rule}:subject"
        known = _REFUSALS.get(rule)
        if known is not None:
            return known[self._index].format(detail=self.action(detail) if detail else "")
        if self.lang == "id":
            return f"Ditolak oleh aturan {reason}."
        return f"Refused by the rule {reason}."
