"""The browser files Solara's page loads, installed from the npm registry for offline use.

Solara's page asks its server for a few JavaScript/CSS packages under ``/_solara/cdn/...``; the
server answers from a cache folder and, for a file not there, fetches it from a public CDN. On a
machine without that CDN (this project's CI) the page then never renders. This module fills the
cache from the npm registry with npm's own client (``npm pack``), once per environment::

    python -m sim.explore.assets          # installs what is missing, prints what it did

The packages are read from Solara's page template, so they follow Solara's version.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

EXTRA = ("requirejs@2.3.6", "font-awesome@4.5.0")
"""Packages the page loads that the template names through variables."""

_PACKAGE = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+@\d[\w.-]*)/")


def cache_dir() -> Path:
    """Solara's CDN cache folder for this environment."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def wanted() -> list[str]:
    """``name@version`` of every package the page template loads."""
    import solara.server

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    found = _PACKAGE.findall(template.read_text(encoding="utf-8"))
    return sorted({*found, *EXTRA})


def missing(folder: Path | None = None) -> list[str]:
    """The wanted packages not yet in the cache."""
    folder = cache_dir() if folder is None else folder
    return [p for p in wanted() if not (folder / p).is_dir()]


def install(folder: Path | None = None) -> list[str]:
    """Fetch the missing packages with ``npm pack`` and unpack them into the cache.

    Returns:
        The packages installed.

    Raises:
        RuntimeError: npm is not installed or a package cannot be fetched.
    """
    folder = cache_dir() if folder is None else folder
    todo = missing(folder)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch the explorer's browser files (apt install npm)")
    with tempfile.TemporaryDirectory(prefix="solara-assets-") as tmp:
        for spec in todo:
            done = subprocess.run(
                [npm, "pack", spec, "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {spec} failed: {done.stderr.strip()[:300]}")
            tgz = Path(tmp) / done.stdout.strip().splitlines()[-1]
            target = folder / spec
            staging = Path(tmp) / "unpacked"
            with tarfile.open(tgz) as tar:
                tar.extractall(staging, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staging / "package"), str(target))
            shutil.rmtree(staging, ignore_errors=True)
    return todo


def main() -> int:
    """Install what is missing; print it."""
    try:
        done = install()
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"installed: {', '.join(done)}" if done else "explorer browser files: all present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
