"""The documentation site is complete, self-contained and works opened from disk."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _config() -> dict[str, object]:
    config: dict[str, object] = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return config


def _nav_pages(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_pages(item) for item in nav))
    if isinstance(nav, dict):
        return set().union(*(_nav_pages(value) for value in nav.values()))
    return set()


class TestPages:
    def test_readme_links_every_page(self) -> None:
        """The README links every page in docs/ and in the site's navigation."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)\)", readme))
        pages = {p.name for p in DOCS.glob("*.md")} | _nav_pages(_config()["nav"])
        assert pages - linked == set()

    def test_nav_lists_every_page(self) -> None:
        """Every page in docs/ is in the navigation, and every navigation entry exists."""
        nav = _nav_pages(_config()["nav"])
        assert nav == {p.name for p in DOCS.glob("*.md")}

    def test_no_citation_outside_the_repository(self) -> None:
        """Docs and code cite the sources page, never the project's private DOMAIN.md."""
        files = [*DOCS.glob("*.md"), ROOT / "README.md", *(ROOT / "src").rglob("*.py")]
        citing = [str(f.relative_to(ROOT)) for f in files if "DOMAIN.md" in f.read_text("utf-8")]
        assert citing == []


class TestOffline:
    def test_pages_are_files(self) -> None:
        """Links are page.html, not page/, so the site works opened from disk."""
        assert _config()["use_directory_urls"] is False

    def test_no_cdn(self) -> None:
        """The theme's highlight.js, loaded from a CDN, is turned off."""
        theme = _config()["theme"]
        assert isinstance(theme, dict)
        assert theme["highlightjs"] is False
