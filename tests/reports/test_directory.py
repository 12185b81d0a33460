"""Tests for the officer directory (pelayanan.reports.directory) and `report sla --directory`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.exceptions import ConfigurationError, DirectoryError, ReportError
from pelayanan.reports.directory import (
    MAX_ENTRIES,
    Directory,
    Officer,
    directory_from_mapping,
    load_directory,
)
from pelayanan.reports.wording import Wording

NIP = "199001052015031002"


def problems(document: object) -> list[str]:
    """Return the rendered problems of a directory document."""
    with pytest.raises(DirectoryError) as caught:
        directory_from_mapping(document)  # type: ignore[arg-type]
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, ReportError)
    return [p.render() for p in caught.value.problems]


class TestDirectory:
    """Reading a directory."""

    def test_officers_and_units(self) -> None:
        """NIPs map to names and units; units to their names."""
        directory = directory_from_mapping(
            {
                "officers": {NIP: {"name": "Dedi Kurniawan", "unit": "dinas-lh"}},
                "units": {"dinas-lh": "Dinas Lingkungan Hidup"},
            }
        )
        assert directory.officers[NIP] == Officer("Dedi Kurniawan", "dinas-lh")
        assert directory.units == {"dinas-lh": "Dinas Lingkungan Hidup"}

    def test_unquoted_nip(self) -> None:
        """An unquoted NIP (an integer to YAML) is taken back as its digits."""
        directory = directory_from_mapping({"officers": {int(NIP): {"name": "A"}}})
        assert NIP in directory.officers

    def test_file_errors_carry_lines(self, tmp_path: Path) -> None:
        """Every problem names the file, the line and the key path."""
        path = tmp_path / "pegawai.yaml"
        path.write_text(
            'officers:\n  "123": {name: A}\n  "199001052015031002": {name: "", unit: X}\n',
            encoding="utf-8",
        )
        with pytest.raises(DirectoryError) as caught:
            load_directory(path)
        found = [p.render() for p in caught.value.problems]
        assert found[0] == (
            f"{path}:2: officers.123: an officer is keyed by an 18-digit NIP (quote it in YAML)"
        )
        assert found[1].startswith(f"{path}:3: officers.{NIP}.name: write the name")
        assert found[2].startswith(f"{path}:3: officers.{NIP}.unit: a unit id is")

    @pytest.mark.parametrize(
        "name",
        ["\x1b[31mred", "a\u202eb", "x" * 121, "line\nbreak"],
    )
    def test_hostile_names(self, name: str) -> None:
        """Control and direction characters, and over-long names, are refused."""
        found = problems({"officers": {NIP: {"name": name}}})
        assert found == [
            (
                f"officers.{NIP}.name: write printable text of at most 120 characters "
                "(no control characters)"
            )
        ]

    def test_too_many_officers(self) -> None:
        """A directory of more than the bound is refused without reading every entry."""
        many = {f"{n:018d}": {"name": "A"} for n in range(MAX_ENTRIES + 1)}
        assert problems({"officers": many}) == [
            f"officers: {MAX_ENTRIES + 1} officers; a directory holds at most {MAX_ENTRIES}"
        ]

    def test_unknown_keys(self) -> None:
        """A misspelt key gets a suggestion."""
        found = problems({"officer": {}})
        assert found[0].startswith("officer: unknown key 'officer'; did you mean 'officers'?")

    def test_file_too_large(self, tmp_path: Path) -> None:
        """A huge file is refused before it is parsed."""
        path = tmp_path / "big.yaml"
        with path.open("wb") as handle:
            handle.truncate(30_000_000)
        with pytest.raises(DirectoryError, match="holds at most"):
            load_directory(path)

    @given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and t.isprintable()))
    def test_printable_names_round_trip(self, name: str) -> None:
        """Any printable name within the bound is kept (stripped) and shown with the NIP."""
        directory = directory_from_mapping({"officers": {NIP: {"name": name}}})
        shown = Wording(directory=directory).officer(NIP)
        assert shown == f"{name.strip()} ({NIP})"


class TestWordingWithoutDirectory:
    """Without a directory officers appear by NIP."""

    def test_by_nip(self) -> None:
        """The NIP is shown as recorded; a missing officer is a dash."""
        assert Wording().officer(NIP) == NIP
        assert Wording(directory=Directory()).officer(NIP) == NIP
        assert Wording().officer(None) == "-"
