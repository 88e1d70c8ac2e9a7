#!/usr/bin/env bash
# Build the extension with AddressSanitizer + UndefinedBehaviorSanitizer (MASKCODECS_SANITIZE=1
# in setup.py) in a scratch copy of the project and run the whole test suite against it, then
# replay the fuzz regression corpus and a short fuzz run under the sanitizers.
#
# Usage: bash scripts/sanitize.sh            (uses python3, or $PYTHON)
# The source tree is not touched: the copy and its venv live in a temporary directory
# ($MASKCODECS_SANITIZE_DIR to keep them). gcc or clang with libasan/libubsan is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PY="${PYTHON:-python3}"
WORK="${MASKCODECS_SANITIZE_DIR:-$(mktemp -d)}"
if [ -z "${MASKCODECS_SANITIZE_DIR:-}" ]; then
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

# the project files only (no build products, no venvs)
tar -C "$ROOT" --exclude='./.git' --exclude='./build' --exclude='./.ci-venv' \
    --exclude='*.so' --exclude='./src/maskcodecs/_rle_core.c' --exclude='*.egg-info' \
    --exclude='__pycache__' --exclude='./benchmarks/.cache' --exclude='./.hypothesis' \
    -cf - . | tar -C "$WORK" -xf -
mkdir -p "$WORK/src"

if [ ! -x "$WORK/venv/bin/python" ]; then
    "$PY" -m venv "$WORK/venv"
fi
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install --quiet --upgrade pip
"$VPY" -m pip install --quiet "setuptools>=68" "Cython>=3.1" numpy pytest hypothesis \
    pycocotools Pillow opencv-python-headless "dask[distributed]"

CC_BIN="${CC:-gcc}"
ASAN_LIB="$("$CC_BIN" -print-file-name=libasan.so)"
UBSAN_LIB="$("$CC_BIN" -print-file-name=libubsan.so)"
if [ ! -e "$ASAN_LIB" ]; then
    echo "sanitize.sh: $CC_BIN has no libasan.so" >&2
    exit 2
fi

( cd "$WORK" && MASKCODECS_SANITIZE=1 MASKCODECS_DEBUG=0 CC="$CC_BIN" \
    "$VPY" setup.py -q build_ext --inplace )

# CPython itself is not built with ASan: its arenas look like leaks, so leak detection is off.
# Any ASan report or UBSan finding aborts the process and fails the run.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export PYTHONMALLOC=malloc          # let ASan see every Python allocation too
export LD_PRELOAD="$ASAN_LIB${UBSAN_LIB:+:$UBSAN_LIB}"
export PYTHONPATH="$WORK/src"
export MASKCODECS_SANITIZED=1     # tests skip resident-size and timing bounds
cd "$WORK"
"$VPY" -c "import maskcodecs._rle_core as m; print('sanitized build:', m.__file__)"
# the whole suite (pytest sees the sanitized in-place build through PYTHONPATH)
"$VPY" -m pytest tests -q -p no:cacheprovider
# every input that ever failed, and a short fuzz run with the pure-Python driver
MASKCODECS_FUZZ_DRIVER=random PYTHON="$VPY" bash fuzz/smoke.sh 3
