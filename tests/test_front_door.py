"""`import pelayanan` is the front door: the names a host app needs, loaded on first use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import pelayanan

SRC = Path(__file__).resolve().parent.parent / "src"

# Heavy dependencies a bare `import pelayanan` must not pull in.
HEAVY = ("psycopg", "psycopg_pool", "matplotlib", "cryptography", "statemachine", "holidays")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter that sees this checkout's package."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(SRC)},
    )


def _modules_after(code: str) -> list[str]:
    """Run *code* in a fresh interpreter and return the modules it left in `sys.modules`."""
    result = _run(f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))")
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout)
    return loaded


class TestNames:
    def test_all_is_sorted(self) -> None:
        """`__all__` is kept in plain sorted order, so a reader finds a name at a glance."""
        assert pelayanan.__all__ == sorted(pelayanan.__all__)
        assert len(set(pelayanan.__all__)) == len(pelayanan.__all__)

    @pytest.mark.parametrize("name", pelayanan.__all__)
    def test_every_name_resolves(self, name: str) -> None:
        """Every name in `__all__` is an attribute of the package."""
        assert getattr(pelayanan, name) is not None

    @pytest.mark.parametrize("name", [n for n in pelayanan.__all__ if n != "__version__"])
    def test_name_is_the_defining_modules_object(self, name: str) -> None:
        """A front-door name is the very object its public module exports, not a copy."""
        module = __import__(pelayanan._ORIGINS[name], fromlist=[name])
        assert getattr(pelayanan, name) is getattr(module, name)
        assert not pelayanan._ORIGINS[name].rpartition(".")[2].startswith("_")

    def test_origins_cover_all(self) -> None:
        """The lazy table and `__all__` list the same names."""
        assert set(pelayanan._ORIGINS) == set(pelayanan.__all__) - {"__version__"}

    def test_type_checking_block_matches_origins(self) -> None:
        """Type checkers see each name imported from the module it loads from at run time."""
        tree = ast.parse(Path(pelayanan.__file__).read_text(encoding="utf-8"))
        block = next(
            node
            for node in tree.body
            if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        )
        seen = {
            alias.name: node.module
            for node in block.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert seen == pelayanan._ORIGINS

    def test_unknown_name_raises_attribute_error(self) -> None:
        """A misspelt name fails like any missing attribute, naming it."""
        with pytest.raises(AttributeError, match="ServceDesk"):
            pelayanan.ServceDesk  # type: ignore[attr-defined]  # noqa: B018

    def test_from_import_works(self) -> None:
        """`from pelayanan import X` finds lazily loaded names."""
        from pelayanan import ServiceDesk, load_sop

        assert ServiceDesk.__name__ == "ServiceDesk"
        assert callable(load_sop)

    def test_dir_lists_the_front_door(self) -> None:
        """`dir(pelayanan)` shows every front-door name, loaded or not, for completion."""
        assert set(pelayanan.__all__) <= set(dir(pelayanan))


class TestCheapImport:
    def test_import_loads_no_heavy_dependency(self) -> None:
        """A bare `import pelayanan` imports no driver, plotting, crypto or state machine."""
        loaded = _modules_after("import pelayanan")
        heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
        assert heavy == []
        assert [m for m in loaded if m.startswith("pelayanan.")] == []

    def test_desk_does_not_load_postgres(self) -> None:
        """Using the desk and SQLite store leaves the optional PostgreSQL driver unloaded."""
        loaded = _modules_after("from pelayanan import ServiceDesk, SQLiteStore, open_store")
        assert "pelayanan.desk" in loaded
        assert not [m for m in loaded if m.split(".")[0] in ("psycopg", "psycopg_pool")]
        assert "pelayanan.store.postgres" not in loaded

    def test_postgres_store_loads_on_use(self) -> None:
        """Asking for `PostgresStore` is what imports its module."""
        pytest.importorskip("psycopg")
        loaded = _modules_after("from pelayanan import PostgresStore")
        assert "pelayanan.store.postgres" in loaded

    def test_postgres_store_without_the_extra_says_how_to_get_it(self) -> None:
        """Without psycopg, asking for `PostgresStore` names the extra to install."""
        blocked = (
            "import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('psycopg', 'psycopg_pool'):\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, Block())\n"
        )
        result = _run(blocked + "import pelayanan\npelayanan.SQLiteStore\nprint('ok')")
        assert result.stdout.strip() == "ok", result.stderr
        result = _run(blocked + "from pelayanan import PostgresStore")
        assert result.returncode == 1
        assert "pip install 'pelayanan[postgres]'" in result.stderr
