"""Makes reference_values.json: metric values from the standard Python tools for fixed random inputs.

Run (Debian: apt-get install python3-sklearn python3-scipy python3-numpy python3-tqdm python3-tifffile python3-pil):
    /usr/bin/python3 make_fixtures.py --mvtec-ad-eval DIR --loco-eval DIR --mtd ../shared/data/mtd > reference_values.json

--mtd (the real MTD masks of shared/data/mtd) adds a case on real defect shapes: only the mask paths and the
reference values are stored; the anomaly maps are an integer hash both sides compute bit-identically.

The official evaluation code is NOT part of Vigil; it is imported from local copies made outside the repository:
  --mvtec-ad-eval: a folder holding pro_curve_util.py and generic_util.py of the MVTec AD / MVTec 3D-AD evaluation
      code (the 2021+ version whose compute_pro uses every threshold). Used copy: github.com/Simoary/vqgan-ledgm-segAD
      @ cd960d7cfaa3ebb180fb01e2fb917bb05a0dbe1f, files pro_curve_util.py and generic_util.py (taken unchanged from
      the MVTec 3D-AD evaluation code, as that repository's header says).
  --loco-eval: a folder holding metric/mvtec_loco/src/{aggregation,image,metrics,util}.py of the official MVTec LOCO AD
      evaluation code. Used copy: github.com/M-3LAB/open-iad @ 05044fedab142ce4bfd71bb618b3200c0e43f198,
      metric/mvtec_loco/src/*.py (official code with the package prefix "metric.mvtec_loco." added to its imports).
      The official MetricsAggregator samples thresholds adaptively; here ThresholdMetrics is fed every distinct score
      (as the threshold just below it, since the official code binarises with score > threshold) plus one above the
      maximum, i.e. the exact curve the sampling approximates.
sklearn gives AUROC (roc_auc_score), AP (average_precision_score) and F1-max (max of 2PR/(P+R) over
precision_recall_curve; the threshold reported is the highest one reaching the maximum).
"""
import argparse
import contextlib
import io
import json
import sys

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

PRO_LIMITS = [0.3, 0.1, 0.05, 1.0]
LOCO_LIMITS = [0.01, 0.05, 0.1, 0.3, 1.0]


def f1_max(labels, scores):
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)[:-1]
    best = f1.max()
    return float(best), float(thresholds[f1 == best].max())


def ranking(labels, scores):
    f1, thr = f1_max(labels, scores)
    return {"auroc": float(roc_auc_score(labels, scores)),
            "ap": float(average_precision_score(labels, scores)),
            "f1": f1, "f1_threshold": thr}


def blob_mask(rng, h, w, blobs):
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    for _ in range(blobs):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(1.0, h / 5), rng.uniform(1.0, w / 5)
        mask |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return mask


def floats(a):
    # Shortest text that reads back as the same float32 (C# float.Parse), to keep the fixture small.
    return [float(str(v)) for v in np.asarray(a, np.float32).ravel()]


def image_cases(rng):
    cases = []
    for name, n, quantum in [("continuous-40", 40, None), ("ties-60", 60, 0.25), ("continuous-200", 200, None)]:
        labels = rng.random(n) < 0.4
        scores = (rng.normal(0, 1, n) + 0.8 * labels).astype(np.float32)
        if quantum:
            scores = (np.round(scores / quantum) * quantum).astype(np.float32)
        case = {"name": name, "scores": floats(scores), "labels": [bool(v) for v in labels]}
        case.update(ranking(labels, scores))
        cases.append(case)
    return cases


def pixel_cases(rng, ad):
    cases = []
    for name, n, quantum in [("blobs-6x32", 6, None), ("blobs-ties-5x32", 5, 0.05)]:
        h = w = 32
        masks = [blob_mask(rng, h, w, k) if k else np.zeros((h, w), bool) for k in rng.integers(0, 4, n)]
        masks[0] = blob_mask(rng, h, w, 3)  # at least one anomalous image
        maps = []
        for m in masks:
            noise = rng.normal(0, 1, (h, w))
            smooth = (noise + np.roll(noise, 1, 0) + np.roll(noise, 1, 1)) / 3
            a = (smooth + 1.2 * m).astype(np.float32)
            if quantum:
                a = (np.round(a / quantum) * quantum).astype(np.float32)
            maps.append(a)
        labels = np.concatenate([m.ravel() for m in masks])
        scores = np.concatenate([a.ravel() for a in maps])
        case = {"name": name, "height": h, "width": w,
                "maps": [floats(a) for a in maps], "masks": [[int(v) for v in m.ravel()] for m in masks]}
        case.update(ranking(labels, scores))
        with contextlib.redirect_stdout(io.StringIO()):
            fprs, pros = ad.compute_pro(anomaly_maps=maps, ground_truth_maps=[m.astype(np.uint8) for m in masks])
        case["aupro"] = {str(l): float(ad.trapezoid(fprs, pros, x_max=l) / l) for l in PRO_LIMITS}
        cases.append(case)
    return cases


def loco_case(rng):
    from metric.mvtec_loco.src.aggregation import ThresholdMetrics
    from metric.mvtec_loco.src.image import AnomalyMap, DefectsConfig, GroundTruthChannel, GroundTruthMap
    from metric.mvtec_loco.src.metrics import get_fp_tn_areas_per_image, get_spros_of_defects_of_images
    from metric.mvtec_loco.src.util import get_auc_for_max_fpr

    defects = [
        {"defect_name": "missing_part", "pixel_value": 255, "saturation_threshold": 1.0, "relative_saturation": True},
        {"defect_name": "half_saturated", "pixel_value": 200, "saturation_threshold": 0.5, "relative_saturation": True},
        {"defect_name": "small_absolute", "pixel_value": 100, "saturation_threshold": 25, "relative_saturation": False},
        {"defect_name": "large_absolute", "pixel_value": 50, "saturation_threshold": 5000, "relative_saturation": False},
    ]
    config = DefectsConfig.create_from_list(defects)
    h = w = 32
    # Channel pixel values per image; [] = good image. Image 3 has two overlapping channels.
    layout = [[], [255, 100], [], [200, 50, 255], [100]]
    maps, gt_maps, gt_json = [], [], []
    for values in layout:
        channels, channel_json = [], []
        union = np.zeros((h, w), bool)
        for v in values:
            m = blob_mask(rng, h, w, 2)
            if not m.any():
                m[h // 2, w // 2] = True
            arr = (m * v).astype(np.uint8)
            channels.append(GroundTruthChannel.create_from_integer_array(arr, config))
            channel_json.append({"pixel_value": v, "mask": [int(b) for b in m.ravel()]})
            union |= m
        a = (rng.normal(0, 1, (h, w)) + 1.5 * union).astype(np.float32)
        maps.append(AnomalyMap(a.astype(np.float64)))
        with contextlib.redirect_stdout(io.StringIO()):
            gt_maps.append(GroundTruthMap(channels) if channels else None)
        gt_json.append({"map": floats(a), "channels": channel_json})

    distinct = np.unique(np.concatenate([m.np_array.ravel() for m in maps]))[::-1]
    thresholds = np.concatenate([[distinct[0] + 1.0], np.nextafter(distinct, -np.inf)])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        spros = get_spros_of_defects_of_images(gt_maps, maps, thresholds)
        fp, tn = get_fp_tn_areas_per_image(gt_maps, maps, thresholds)
    metrics = ThresholdMetrics(gt_maps, maps, thresholds, spros, fp, tn)
    fprs, mean_spros = metrics.get_fp_rates(), metrics.get_mean_spros()
    return {"name": "loco-5x32", "height": h, "width": w, "defects_config": defects, "images": gt_json,
            "auc_spro": {str(l): float(get_auc_for_max_fpr(fprs, mean_spros, l, scale_to_one=True)) for l in LOCO_LIMITS}}


MTD_CROP = (200, 100)  # height, width: every MTD image is at least this large


def mtd_hash_map(image_index, mask):
    """score = hash(pixel) / 2^32 (+ 0.3 on defects), in float32 ops that C# reproduces bit for bit."""
    g = np.arange(mask.size, dtype=np.uint64)
    h = ((np.uint64(image_index) * np.uint64(1000003) + g) * np.uint64(2654435761)) % np.uint64(2 ** 32)
    scores = h.astype(np.float32) * np.float32(2.0 ** -32)
    return (scores + np.where(mask.ravel(), np.float32(0.3), np.float32(0))).astype(np.float32).reshape(mask.shape)


def mtd_case(mtd_dir, ad):
    import glob
    import os
    from PIL import Image
    ch, cw = MTD_CROP
    chosen = []
    for folder, want in [("MT_Blowhole", 3), ("MT_Break", 3), ("MT_Crack", 3), ("MT_Fray", 3), ("MT_Uneven", 3), ("MT_Free", 4)]:
        for path in sorted(glob.glob(os.path.join(mtd_dir, folder, "Imgs", "*.png"))):
            if want == 0:
                break
            a = np.array(Image.open(path))
            a = a.max(axis=2) if a.ndim == 3 else a
            top, left = round((a.shape[0] - ch) / 2), round((a.shape[1] - cw) / 2)
            m = a[top:top + ch, left:left + cw] > 0
            if m.any() == (folder != "MT_Free"):
                chosen.append((os.path.relpath(path, mtd_dir), m))
                want -= 1
    masks = [m for _, m in chosen]
    maps = [mtd_hash_map(k, m) for k, m in enumerate(masks)]
    labels = np.concatenate([m.ravel() for m in masks])
    scores = np.concatenate([a.ravel() for a in maps])
    from scipy.ndimage import label
    regions = sum(label(m, np.ones((3, 3), int))[1] for m in masks)  # 8-connected, as compute_pro labels them
    case = {"masks": [p for p, _ in chosen], "crop": list(MTD_CROP), "regions": int(regions)}
    case.update(ranking(labels, scores))
    with contextlib.redirect_stdout(io.StringIO()):
        fprs, pros = ad.compute_pro(anomaly_maps=maps, ground_truth_maps=[m.astype(np.uint8) for m in masks])
    case["aupro"] = {str(l): float(ad.trapezoid(fprs, pros, x_max=l) / l) for l in PRO_LIMITS}
    return case


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mvtec-ad-eval", required=True)
    parser.add_argument("--loco-eval", required=True)
    parser.add_argument("--mtd", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.mvtec_ad_eval)
    import generic_util
    import pro_curve_util

    class Ad:
        compute_pro = staticmethod(pro_curve_util.compute_pro)
        trapezoid = staticmethod(generic_util.trapezoid)

    sys.path.insert(0, args.loco_eval)
    rng = np.random.default_rng(20261123)
    fixture = {"image": image_cases(rng), "pixel": pixel_cases(rng, Ad), "loco": loco_case(rng),
               "mtd": mtd_case(args.mtd, Ad)}
    json.dump(fixture, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
