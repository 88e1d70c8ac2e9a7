"""Check the vector counts-string parser in C, without Python: natively, and for arm64 (NEON)
under qemu when a cross compiler is installed.

The C part of ``src/maskcodecs/_rle_groups.pxi`` is compiled with a driver that builds strings
from random counts (mostly small deltas, some long groups, counts near 2**31), damages some of
them, and compares ``mc_parse_groups`` with a plain reference reader written here: whenever the
parser returns counts they must be the reference's, and it must read every valid string of 24
characters or more whose counts are below 2**31. The test suite does the same through Python on
the machine it runs on; this script reaches the NEON path from an x86 machine.

Usage: python scripts/check_groups_native.py [cases]
  (CC, AARCH64_CC and QEMU_AARCH64 override aarch64-linux-gnu-gcc and qemu-aarch64)
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PXI = ROOT / "src" / "maskcodecs" / "_rle_groups.pxi"

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
typedef ptrdiff_t Py_ssize_t;
#include "groups.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* the string of counts (pycocotools' encoding) */
static size_t encode(const uint32_t* c, size_t m, unsigned char* out) {
    size_t i, p = 0;
    for (i = 0; i < m; i++) {
        int64_t x = (int64_t)c[i];
        int more = 1;
        if (i > 2) x -= (int64_t)c[i - 2];
        while (more) {
            int ch = (int)(x & 0x1f);
            x >>= 5;
            more = (ch & 0x10) ? x != -1 : x != 0;
            if (more) ch |= 0x20;
            out[p++] = (unsigned char)(ch + 48);
        }
    }
    return p;
}

/* reference: 1 and the counts, or 0 when any rule is broken (bad character, truncated or
   over-long group, a count outside 0..2**32-1) */
static int reference(const unsigned char* s, size_t n, uint32_t* out, size_t* m) {
    size_t p = 0, k = 0;
    int64_t prev[2] = {0, 0};
    while (p < n) {
        int64_t v = 0;
        int j = 0, c;
        do {
            if (p >= n) return 0;
            c = s[p++] - 48;
            if (c < 0 || c > 63) return 0;
            if (j < 7) v |= (int64_t)(c & 0x1f) << (5 * j);
            j++;
        } while (c & 0x20);
        if (j > 7) return 0;
        if (c & 0x10) v = (int64_t)((uint64_t)v | (~(uint64_t)0 << (5 * j)));
        if (k > 2) v += prev[k & 1];
        if (v < 0 || v > 0xFFFFFFFFll) return 0;
        prev[k & 1] = v;
        out[k++] = (uint32_t)v;
    }
    *m = k;
    return 1;
}

int main(int argc, char** argv) {
    long cases = argc > 1 ? atol(argv[1]) : 200000, t, read = 0, damaged = 0;
    static uint32_t counts[4096], ref[8192], got[8192 + 64];
    static unsigned char s[4096 * 8];
    mc_groups_init();
    if (!mc_groups_on) {
        printf("vector parser: not on this CPU, nothing to check\n");
        return 0;
    }
    for (t = 0; t < cases; t++) {
        size_t m = 1 + next() % 400, i, n, rm = 0;
        long r;
        int ok, big = 0, huge = next() % 4 == 0;  /* a quarter of the strings may hold 2**31+ */
        for (i = 0; i < m; i++) {
            uint64_t k = next() % (huge ? 100 : 97);
            if (k < 70) counts[i] = (uint32_t)(next() % 41);
            else if (k < 90) counts[i] = (uint32_t)(next() % 700);
            else if (k < 97) counts[i] = (uint32_t)(next() % 100000);
            else if (k < 99) counts[i] = (uint32_t)(0x7FFFFFF0u + next() % 32);
            else counts[i] = (uint32_t)next();
        }
        n = encode(counts, m, s);
        if (next() % 3 == 0) {  /* damage a few bytes */
            int d = 1 + (int)(next() % 3);
            while (d--) {
                static const unsigned char badb[] = {0, 47, 112, 127, 128, 200, 255};
                size_t at = next() % n;
                s[at] = (next() & 1) ? badb[next() % 7] : (unsigned char)(48 + next() % 64);
            }
            damaged++;
        }
        ok = reference(s, n, ref, &rm);
        /* the parser's contract: the last character ends a group (checked by its caller) */
        r = ((s[n - 1] - 48) & 0x20) ? -1 : (long)mc_parse_groups(s, (Py_ssize_t)n, got);
        if (r >= 0) {
            read++;
            if (!ok || (size_t)r != rm) {
                printf("case %ld: parser read %ld counts, reference %s %zu\n",
                       t, r, ok ? "ok" : "error", rm);
                return 1;
            }
            for (i = 0; i < rm; i++)
                if (got[i] != ref[i]) {
                    printf("case %ld: count %zu is %u, reference %u\n", t, i, got[i], ref[i]);
                    return 1;
                }
        } else if (ok && n >= 24) {
            for (i = 0; i < rm; i++) big |= ref[i] > 0x7FFFFFFFu;
            if (!big) {
                printf("case %ld: a valid string of %zu characters was left to the reference\n",
                       t, n);
                return 1;
            }
        }
    }
    printf("%ld cases (%ld damaged): the parser read %ld, all equal to the reference\n",
           cases, damaged, read);
    return 0;
}
"""


def c_part() -> str:
    text = PXI.read_text()
    m = re.search(r'cdef extern from \*:\n    """\n(.*?)\n    """', text, re.S)
    if not m:
        sys.exit(f"no C block found in {PXI}")
    lines = m.group(1).splitlines()
    return "\n".join(line[4:] if line.startswith("    ") else line for line in lines)


def run(cc: list[str], runner: list[str], cases: str, work: Path, name: str) -> int:
    exe = work / name
    subprocess.run([*cc, "-O2", "-o", str(exe), str(work / "driver.c")], check=True)
    print(f"== {name}")
    return subprocess.run([*runner, str(exe), cases]).returncode


def main() -> int:
    cases = sys.argv[1] if len(sys.argv) > 1 else "200000"
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "groups.h").write_text(c_part())
        (work / "driver.c").write_text(DRIVER)
        status |= run([os.environ.get("CC", "gcc")], [], cases, work, "native")
        acc = os.environ.get("AARCH64_CC", "aarch64-linux-gnu-gcc")
        qemu = os.environ.get("QEMU_AARCH64", "qemu-aarch64")
        if shutil.which(acc) and shutil.which(qemu):
            status |= run([acc, "-static"], [qemu], cases, work, "arm64-neon")
        else:
            print(f"== arm64-neon: skipped ({acc} or {qemu} not found)")
    return status


if __name__ == "__main__":
    sys.exit(main())
