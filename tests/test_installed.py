"""When CI says the package is installed (MASKCODECS_EXPECT_INSTALLED=1, set by .ci/run),
the tests must be exercising the installed wheel, not the source tree."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import maskcodecs
from maskcodecs import _rle_core

pytestmark = pytest.mark.skipif(os.environ.get("MASKCODECS_EXPECT_INSTALLED") != "1",
                                reason="only meaningful when testing an installed wheel")


def test_package_is_imported_from_site_packages():
    for f in (maskcodecs.__file__, _rle_core.__file__):
        assert "site-packages" in Path(f).parts, f


def test_installed_package_ships_stub_and_marker_but_no_sources():
    pkg = Path(maskcodecs.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_rle_core.pyi").exists()
    assert not list(pkg.glob("*.pyx")) and not list(pkg.glob("*.pxi"))
    assert not list(pkg.glob("*.c"))
