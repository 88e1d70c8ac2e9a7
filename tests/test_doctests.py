"""Run the docstring examples of the installed modules (numpydoc Examples sections)."""
import doctest
import importlib

import pytest

MODULES = ["maskcodecs.mask", "maskcodecs.rle", "maskcodecs._patch", "maskcodecs.encord",
           "maskcodecs.coco", "maskcodecs.labelbox", "maskcodecs.polygons",
           "maskcodecs.cli", "maskcodecs.cli._backend", "maskcodecs.cocoeval",
           "maskcodecs._coco_api", "maskcodecs.panoptic", "maskcodecs.lvis", "maskcodecs.rlemask",
           "maskcodecs.kaggle"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        mod = importlib.import_module(name)
    except ImportError as e:  # a module not built in this version
        pytest.skip(f"{name} not available: {e}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in ("maskcodecs.mask", "maskcodecs.rle", "maskcodecs.cocoeval", "maskcodecs._coco_api",
                "maskcodecs.panoptic", "maskcodecs.rlemask"):
        assert result.attempted > 0
