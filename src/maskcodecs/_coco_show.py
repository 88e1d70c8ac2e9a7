"""``COCO.showAnns``: annotations drawn on the current matplotlib axes (matplotlib optional)."""
from __future__ import annotations

from typing import Any

import numpy as np

from maskcodecs import mask as _mask
from maskcodecs._optional import require
from maskcodecs.errors import FormatError


def _pyplot() -> Any:
    return require("matplotlib.pyplot", "COCO.showAnns")


def show_anns(coco: Any, anns: list[dict[str, Any]], draw_bbox: bool = False) -> Any:
    """Draw polygons, masks, keypoint skeletons (and boxes) of ``anns``; print captions.

    Returns 0 for an empty list, as pycocotools does."""
    if len(anns) == 0:
        return 0
    first = anns[0]
    if "segmentation" in first or "keypoints" in first:
        pass
    elif "caption" in first:
        for ann in anns:
            print(ann["caption"])
        return None
    else:
        raise FormatError("datasetType not supported")
    plt = _pyplot()
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    ax = plt.gca()
    ax.set_autoscale_on(False)
    polygons: list[Any] = []
    colours: list[Any] = []
    rng = np.random.default_rng()
    for ann in anns:
        c = (rng.random(3) * 0.6 + 0.4).tolist()
        seg = ann.get("segmentation")
        if type(seg) is list:
            for part in seg:
                xy = np.asarray(part, dtype=np.float64).reshape(-1, 2)
                polygons.append(Polygon(xy))
                colours.append(c)
        elif seg is not None:
            img = coco.imgs[ann["image_id"]]
            rle = _mask.frPyObjects(seg, img["height"], img["width"]) \
                if type(seg["counts"]) is list else seg
            m = _mask.decode(rle)
            colour = np.array([2.0, 166.0, 101.0]) / 255 if ann.get("iscrowd") == 1 \
                else rng.random(3)
            layer = np.empty(m.shape[:2] + (4,))
            layer[..., :3] = colour
            layer[..., 3] = m * 0.5
            ax.imshow(layer)
        kp = ann.get("keypoints")
        if kp is not None and type(kp) is list:
            arr = np.asarray(kp, dtype=np.float64)
            x, y, v = arr[0::3], arr[1::3], arr[2::3]
            skeleton = coco.loadCats(ann["category_id"])[0].get("skeleton", [])
            for sk in np.asarray(skeleton, dtype=np.int64).reshape(-1, 2) - 1:
                if np.all(v[sk] > 0):
                    plt.plot(x[sk], y[sk], linewidth=3, color=c)
            plt.plot(x[v > 0], y[v > 0], "o", markersize=8, markerfacecolor=c,
                     markeredgecolor="k", markeredgewidth=2)
            plt.plot(x[v > 1], y[v > 1], "o", markersize=8, markerfacecolor=c,
                     markeredgecolor=c, markeredgewidth=2)
        if draw_bbox:
            bx, by, bw, bh = ann["bbox"]
            polygons.append(Polygon(np.array([[bx, by], [bx, by + bh], [bx + bw, by + bh],
                                              [bx + bw, by]], dtype=np.float64)))
            colours.append(c)
    ax.add_collection(PatchCollection(polygons, facecolor=colours, linewidths=0, alpha=0.4))
    ax.add_collection(PatchCollection(polygons, facecolor="none", edgecolors=colours,
                                      linewidths=2))
    return None
