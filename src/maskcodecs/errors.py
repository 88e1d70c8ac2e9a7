"""Exceptions raised by maskcodecs.

Every exception derives from :class:`MaskCodecError` and also from the builtin a caller of
pycocotools would already catch (``ValueError`` or ``TypeError``), so existing ``except``
clauses keep working.
"""
from __future__ import annotations

__all__ = [
    "MaskCodecError",
    "InvalidRLEError",
    "CountsStringError",
    "CountRangeError",
    "SizeMismatchError",
    "CrowdLengthError",
    "RLEKeyError",
    "PolygonError",
    "RLETypeError",
    "MaskDtypeError",
    "MaskShapeError",
    "ImageTooLargeError",
    "FormatError",
    "error_for_code",
]


class MaskCodecError(Exception):
    """Base class of every maskcodecs error."""


class InvalidRLEError(MaskCodecError, ValueError):
    """An RLE whose counts or size do not describe a mask (e.g. counts overrun h*w)."""


class CountsStringError(InvalidRLEError):
    """A compressed counts string that is malformed (bad character, truncated group...)."""


class CountRangeError(InvalidRLEError, OverflowError):
    """An uncompressed count that is negative or does not fit in 32 bits."""


class RLEKeyError(InvalidRLEError, KeyError):
    """An RLE dict without its ``size`` or ``counts`` key (pycocotools raises KeyError there,
    so this is a KeyError too)."""

    def __str__(self) -> str:  # a message, not KeyError's repr of the key
        return str(self.args[0]) if self.args else ""


class SizeMismatchError(MaskCodecError, ValueError):
    """Operands of one operation have different [h, w] sizes."""


class CrowdLengthError(SizeMismatchError, AssertionError):
    """``iou``'s ``iscrowd`` of another length than the ground truth (pycocotools asserts
    there, so this is an AssertionError too; raised even under ``python -O``)."""


class PolygonError(MaskCodecError, ValueError):
    """A polygon or box with non-finite or out-of-range coordinates."""


class RLETypeError(MaskCodecError, TypeError):
    """An RLE whose counts or size has the wrong Python type."""


class MaskDtypeError(MaskCodecError, ValueError, TypeError):
    """An array of a dtype that cannot be a mask (floats, objects...)."""


class MaskShapeError(MaskCodecError, ValueError):
    """An array or size of the wrong shape or a negative size."""


class ImageTooLargeError(MaskCodecError, ValueError):
    """A size over 2**48 pixels, or work or scratch memory out of proportion to the input."""


class FormatError(MaskCodecError, ValueError):
    """A malformed Encord, Labelbox or COCO document."""


# Kernel error codes (negative return values of the nogil kernels) -> (exception, message).
_CODES: dict[int, tuple[type[MaskCodecError], str]] = {
    -2: (CountsStringError, "counts string contains a character outside '0'..'o' (48..111)"),
    -3: (CountsStringError, "counts string ends inside a group (truncated string)"),
    -4: (CountsStringError, "counts string has a group longer than 7 characters"),
    -5: (CountsStringError, "counts string decodes to a count outside 0..2**32-1"),
    -6: (InvalidRLEError, "RLE counts sum to more than h*w"),
    -7: (PolygonError, "polygon coordinates must be finite and within +-4e8"),
    -8: (ImageTooLargeError, "h*w is too large"),
    -9: (SizeMismatchError, "RLE sizes differ"),
    -10: (InvalidRLEError, "counts string contains a NUL byte"),
    -11: (ImageTooLargeError, "polygon crosses more than 2**24 pixel columns in total "
                              "(its boundary would need gigabytes of scratch)"),
}


def error_for_code(code: int, context: str = "") -> Exception:
    """Return the exception for a negative kernel return code."""
    if code == -1:
        return MemoryError(f"{context}: out of memory" if context else "out of memory")
    cls, msg = _CODES.get(code, (MaskCodecError, f"internal error (code {code})"))
    if context:
        msg = f"{context}: {msg}"
    return cls(msg)


class UnrequestedColorError(MaskCodecError, ValueError):
    """A colour composite holds colours that were not requested (``on_unrequested="raise"``)."""


class OptionalDependencyError(MaskCodecError, ImportError):
    """A feature needs an optional package or module that is not installed (e.g. Pillow)."""


class ContourOptionError(MaskCodecError, ValueError):
    """An unknown contour mode, approximation or connectivity (maskcodecs.polygons)."""


__all__ += ["OptionalDependencyError", "UnrequestedColorError", "ContourOptionError"]


class ImageReadError(FormatError, OSError):
    """Image bytes or an image file that cannot be decoded (corrupt or not an image)."""


__all__ += ["ImageReadError"]


class COCOFormatError(FormatError, AssertionError):
    """A COCO file or result list that pycocotools rejects with an assertion (a top level that
    is not an object, results that are not a list or name images outside the ground truth)."""


class EvaluationError(MaskCodecError, ValueError):
    """COCO evaluation inputs or parameters that cannot be evaluated (an unknown iouType,
    malformed boxes or keypoints)."""


class EvaluationOrderError(MaskCodecError, AttributeError):
    """accumulate() before evaluate(), or summarize() before accumulate()."""


class EvaluationTypeError(EvaluationError, TypeError):
    """An annotation field the evaluation reads as a number (score, area, id) that is not one."""


__all__ += ["COCOFormatError", "EvaluationError", "EvaluationOrderError", "EvaluationTypeError"]


class PanopticError(FormatError):
    """Panoptic segmentation inputs that cannot be evaluated (maskcodecs.panoptic): a
    malformed JSON document, an id map that is not an RGB or integer map."""


class PanopticSegmentError(PanopticError, KeyError):
    """Panoptic JSON and PNGs that disagree where panopticapi raises ``KeyError`` (or a bare
    ``Exception``): a segment in a PNG and not in its JSON or the reverse, a predicted
    segment of an unknown category, a ground-truth image without a prediction."""

    __str__ = BaseException.__str__  # the message as given, not KeyError's repr of it


class PanopticFolderError(PanopticError, FileNotFoundError):
    """A folder of panoptic PNGs that does not exist."""


__all__ += ["PanopticError", "PanopticSegmentError", "PanopticFolderError"]


class OutputPathError(MaskCodecError, ValueError):
    """An output file name that would be written outside its output folder: absolute,
    with ``..``, or through a symbolic link (or an existing file) that leads out of it."""


class OutputCollisionError(OutputPathError):
    """Two or more outputs of one run that would be written to the same file."""


class OutputWriteError(MaskCodecError, OSError):
    """An output file that could not be written (disk full, permission denied...); no
    partial file is left in its place."""


__all__ += ["OutputPathError", "OutputCollisionError", "OutputWriteError"]


class MaskLayoutWarning(UserWarning):
    """A mask stack whose layout looks like (N, H, W) given where (H, W, N) is read (the
    drop-in's ``encode``): its masks would be cut across. Warned once per process."""


__all__ += ["MaskLayoutWarning"]


class LVISFormatError(COCOFormatError):
    """An LVIS file or result list that lvis-api rejects with an assertion: a top level that
    is not an object, results that are not a list or name images outside the ground truth."""


class LVISFieldError(FormatError, KeyError):
    """An LVIS dataset or result without a key lvis-api reads (``neg_category_ids``,
    ``not_exhaustive_category_ids``, ``frequency``, ``area``...), or an image, category or
    annotation id that is not in the index: where lvis-api raises ``KeyError``."""

    __str__ = BaseException.__str__  # the message as given, not KeyError's repr of it


class LVISTypeError(MaskCodecError, TypeError):
    """A ground truth or results argument of a type LVISResults or LVISEval does not take."""


class LVISOrderError(EvaluationOrderError, RuntimeError, TypeError):
    """LVISEval.accumulate() before evaluate() (lvis-api fails with a TypeError there) or
    summarize() before accumulate() (lvis-api's RuntimeError)."""


__all__ += ["LVISFormatError", "LVISFieldError", "LVISTypeError", "LVISOrderError"]


class ArgumentError(MaskCodecError, ValueError, TypeError):
    """A keyword argument of a library function of the wrong type or out of range
    (``threads=``, ``background=``, ``channel=``, ``color=``...): a ValueError and a
    TypeError, whichever a caller catches."""


__all__ += ["ArgumentError"]


class ColourToleranceWarning(UserWarning):
    """A colour map snapped to its palette with a tolerance (``segments_from_colour_map(...,
    tolerance=)``) left many pixels unassigned: farther than the tolerance from every
    palette colour, so read as background."""


__all__ += ["ColourToleranceWarning"]
