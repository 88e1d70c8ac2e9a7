"""Build the single Cython extension, maskcodecs._rle_core.

Environment switches:
  MASKCODECS_DEBUG=1     turn Cython's bounds/wraparound/initialised checks back on
  MASKCODECS_TRACE=1     add line tracing (for coverage of the .pyx)
  MASKCODECS_SANITIZE=1  build with AddressSanitizer + UndefinedBehaviorSanitizer (gcc/clang)
  MASKCODECS_NO_SIMD=1   use the portable SWAR block scans instead of SSE2/NEON (to test them)
"""
import os
import platform
import struct
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


DEBUG = _flag("MASKCODECS_DEBUG")
TRACE = _flag("MASKCODECS_TRACE")
SANITIZE = _flag("MASKCODECS_SANITIZE")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
    "freethreading_compatible": True,
    "linetrace": TRACE,
}

macros = []
if _flag("MASKCODECS_NO_SIMD"):
    macros.append(("MC_FORCE_SWAR", "1"))
if TRACE:
    macros.append(("CYTHON_TRACE_NOGIL", "1"))

if sys.platform == "win32":
    # MSVC: /fp:precise never contracts a*b+c into an FMA.
    compile_args = ["/O2", "/fp:precise"]
    link_args = []
else:
    # Bit-exact polygon rasterisation on every architecture: no FMA contraction.
    compile_args = ["-O3", "-ffp-contract=off", "-fno-strict-aliasing"]
    link_args = []
    if struct.calcsize("P") == 4 and platform.machine().lower() in (
            "i386", "i486", "i586", "i686", "x86", "x86_64", "amd64"):
        # 32-bit x86: doubles in SSE2 registers, not the x87's 80-bit ones, whose double
        # rounding would break the bit-exact evaluation and the JSON scanner's exact number
        # path (SSE2 is numpy's own baseline on x86, so no wheel user loses a CPU)
        compile_args += ["-msse2", "-mfpmath=sse"]
    if SANITIZE:
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
        compile_args = ["-ffp-contract=off", "-fno-sanitize-recover=undefined"] + san
        link_args = san

ext = Extension(
    "maskcodecs._rle_core",
    sources=["src/maskcodecs/_rle_core.pyx"],
    define_macros=macros,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([ext], compiler_directives=DIRECTIVES,
                            annotate=_flag("MASKCODECS_ANNOTATE")))
