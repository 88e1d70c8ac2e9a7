"""Wall time and peak memory of COCOeval end to end, one fresh process per engine and case.

Each measurement is a new Python process that imports the engine, reads its resident set
size, runs ``COCO(gt)`` / ``loadRes(res)`` / ``evaluate`` / ``accumulate`` / ``summarize``
once (stdout silenced), and reports the seconds of that run, the CPU seconds it used (more
than the wall time where the engine runs threads) and its peak RSS (VmHWM from
/proc/self/status: everything the process held at its peak, the interpreter and imports
included; the ``import`` column is the RSS before the run). It also checks the stats against
pycocotools' (cached beside the workload by bench_eval.py or computed here once).

Run::

    python benchmarks/peak_rss_eval.py                      # 5,000 images, all cases
    python benchmarks/peak_rss_eval.py --images 500 --cases bbox,segm
    python benchmarks/peak_rss_eval.py --objects365 --engines hotcoco,ultrafast_pycocotools
    python benchmarks/peak_rss_eval.py --json /tmp/rss.json  # also write the rows
    python benchmarks/peak_rss_eval.py --objects365 --engines pycocotools --memory-limit-gb 16

``--objects365`` runs the bbox case of an Objects365-sized workload (365 categories, 50,000
images, ~600k GT boxes and ~1M detections; ``--images`` scales it), generated once into
benchmarks/.cache/eval_workload/. pycocotools takes minutes and many GB there, and
faster-coco-eval about 20 GB: ``--memory-limit-gb`` makes such a run fail cleanly.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_engines as ee  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import eval_engines as ee
engine, gt, res, iou_type = sys.argv[2:6]
try:
    classes = ee.load(engine)
except ee.EngineUnavailable as e:
    print(json.dumps({"skip": str(e)}))
    sys.exit(0)
import numpy  # imported by every engine; counted in the import RSS
rss0 = ee._rss_bytes()
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
ev = ee.run(engine, gt, res, iou_type, classes)
seconds = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
out = {"seconds": seconds, "cpu_seconds": cpu, "peak_rss": ee._peak_rss_bytes(),
       "import_rss": rss0, "stats": ee.results(ev)["stats"].tolist()}
if len(sys.argv) > 6:  # save the arrays for the comparison with pycocotools
    import numpy as np
    np.savez(sys.argv[6], **ee.results(ev))
print(json.dumps(out))
"""


def _child(engine: str, gt: Path, res: Path, iou_type: str, save: Path | None,
           timeout: float, limit_gb: float | None) -> dict[str, Any]:
    cmd = [sys.executable, "-c", CHILD, str(ee.HERE), engine, str(gt), str(res), iou_type]
    if save is not None:
        cmd.append(str(save))

    def cap() -> None:  # in the child: fail with MemoryError instead of exhausting the machine
        if limit_gb:
            lim = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=cap)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        if "MemoryError" in p.stderr or "memory allocation" in p.stderr:
            tail = f"out of memory under --memory-limit-gb {limit_gb:g} ({tail[:80]})"
        return {"error": f"exit {p.returncode}: {tail}"}
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_seconds"] = wall
    return out


def _sec(t: float) -> str:
    return f"{t:.2f}" if t >= 1 else f"{t:.3f}"


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=None,
                    help="workload size (default 5000, or 50000 with --objects365)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engines", default=",".join(ee.ENGINES),
                    help="comma-separated, from: " + ", ".join(ee.ENGINES))
    ap.add_argument("--cases", default=",".join(ee.CASES),
                    help="comma-separated, from: " + ", ".join(ee.CASES))
    ap.add_argument("--objects365", action="store_true",
                    help="the Objects365-sized bbox workload instead of the COCO-sized one")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    ap.add_argument("--memory-limit-gb", type=float, default=None,
                    help="cap each run's address space (RLIMIT_AS), so that an engine that "
                         "needs more fails instead of exhausting the machine")
    ap.add_argument("--json", help="also write the rows to this file")
    a = ap.parse_args(argv)
    engines = [e for e in a.engines.split(",") if e]
    unknown = set(engines) - set(ee.ENGINES)
    if unknown:
        ap.error(f"unknown engines: {sorted(unknown)}")
    images = a.images if a.images is not None else (50_000 if a.objects365 else 5000)
    t0 = time.perf_counter()
    folder = ee.workload(images, a.seed, objects365=a.objects365)
    gen = time.perf_counter() - t0
    if gen > 1:
        print(f"generated {folder} in {gen:.1f} s", file=sys.stderr)
    cases = {"objects365_bbox": ee.O365_CASE} if a.objects365 else {
        c: ee.CASES[c] for c in a.cases.split(",") if c}

    rows: list[dict[str, Any]] = []
    for case, (gt_name, res_name, iou_type) in cases.items():
        gt, res = folder / gt_name, folder / res_name
        ref_path = folder / f"ref-pycocotools-{ee.version(ee.REF)}-{case}.npz"
        ref: dict[str, Any] | None = None
        case_rows = []
        for engine in engines:
            save = None
            if engine == ee.REF and not ref_path.is_file():
                save = folder / f"ref-pycocotools-{ee.version(ee.REF)}-{case}.tmp.npz"
            print(f"{case} {engine} ...", file=sys.stderr, flush=True)
            try:
                r = _child(engine, gt, res, iou_type, save, a.timeout, a.memory_limit_gb)
            except subprocess.TimeoutExpired:
                r = {"error": f"timeout after {a.timeout:.0f} s"}
            if save is not None and save.is_file():
                os.replace(save, ref_path)
            case_rows.append({"engine": engine, "version": ee.version(engine), "case": case,
                              "images": images, **r})
        if ref_path.is_file():
            ref = ee.reference(folder, case, gt_name, res_name, iou_type)
        base = next((r for r in case_rows if r["engine"] == ee.REF and "seconds" in r), None)
        for row in case_rows:
            if "seconds" not in row:
                continue
            if ref is not None:
                d = np.asarray(row["stats"]) - ref["stats"]
                row["stats_match"] = bool(np.array_equal(np.asarray(row["stats"]), ref["stats"]))
                row["stats_max_abs_diff"] = float(np.max(np.abs(d)))
            if base is not None:
                row["speedup"] = base["seconds"] / row["seconds"]
                row["rss_ratio"] = row["peak_rss"] / base["peak_rss"]
        rows.extend(case_rows)

    print(f"\nCOCOeval end to end, {images} images{' (Objects365-sized)' if a.objects365 else ''}"
          f", one fresh process per row; {os.cpu_count()} CPUs\n")
    print("| engine | iouType | seconds | CPU s | peak RSS MB | import RSS MB | "
          "speed-up vs pycocotools | peak RSS / pycocotools | stats == pycocotools |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        head = f"| {r['engine']} {r['version']} | {r['case']} |"
        if "seconds" not in r:
            why = f"skipped: {r['skip']}" if "skip" in r else f"failed: {r.get('error')}"
            print(f"{head} {why} | | | | | | |")
            continue
        sp = f"{r['speedup']:.1f}x" if "speedup" in r else "—"
        rr = f"{r['rss_ratio']:.2f}" if "rss_ratio" in r else "—"
        if "stats_match" not in r:
            sm = "—"
        elif r["stats_match"]:
            sm = "yes (bit-equal)"
        else:
            sm = f"no (max diff {r['stats_max_abs_diff']:.3g})"
        print(f"{head} {_sec(r['seconds'])} | {_sec(r['cpu_seconds'])} | {_mb(r['peak_rss'])} | "
              f"{_mb(r['import_rss'])} | {sp} | {rr} | {sm} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    # the largest peak of any child, as the kernel counts it (a cross-check of VmHWM)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"\nlargest child ru_maxrss: {kids / 1024:,.0f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
