import numpy as np
import pytest

import maskcodecs
from maskcodecs import mask as mc

pycocotools_mask = pytest.importorskip("pycocotools.mask")


def test_version():
    assert maskcodecs.__version__.count(".") == 2


def test_worked_example_matches_spec_and_pycocotools():
    m = np.zeros((4, 3), dtype=np.uint8, order="F")
    m[0, 2] = m[1, 1] = m[2, 1] = 1
    ours = mc.encode(m)
    assert ours == {"size": [4, 3], "counts": b"521O2"}
    assert ours == pycocotools_mask.encode(m)
