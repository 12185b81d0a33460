"""The deprecated `pelayanan.disposition` shim serves the routing names and warns."""

import importlib
import sys

import pytest

import pelayanan.routing
from pelayanan.routing import _disposisi


def _fresh_shim() -> object:
    sys.modules.pop("pelayanan.disposition", None)
    with pytest.warns(DeprecationWarning, match="pelayanan.routing"):
        return importlib.import_module("pelayanan.disposition")


class TestDispositionShim:
    def test_warns_on_import(self) -> None:
        """Importing the shim raises a DeprecationWarning naming the new home."""
        _fresh_shim()

    def test_names_follow_routing(self) -> None:
        """The shim exports exactly the routing module's disposisi names, the same objects."""
        shim = _fresh_shim()
        assert shim.__all__ == list(_disposisi.__all__)  # type: ignore[attr-defined]
        for name in _disposisi.__all__:
            assert getattr(shim, name) is getattr(pelayanan.routing, name)
        assert sorted(dir(shim)) == sorted(_disposisi.__all__)

    def test_unknown_name(self) -> None:
        """A name routing does not export is an AttributeError, not a silent None."""
        shim = _fresh_shim()
        with pytest.raises(AttributeError, match="no_such_name"):
            getattr(shim, "no_such_name")  # noqa: B009
