"""Makes loco_evaluation.json: what the official MVTec LOCO AD evaluation reports for a small generated category.

Run (Debian: apt-get install python3-numpy python3-pil python3-tifffile python3-tqdm):
    /usr/bin/python3 make_loco_evaluation_fixture.py --loco-eval DIR > loco_evaluation.json

--loco-eval: a folder holding metric/mvtec_loco/{evaluate_experiment.py, src/*.py} of the official MVTec LOCO AD
    evaluation code. Used copy: github.com/M-3LAB/open-iad @ 05044fedab142ce4bfd71bb618b3200c0e43f198, folder
    metric/mvtec_loco/ (the official code with the package prefix "metric.mvtec_loco." added to its imports; its
    main() writes metrics_<object>.json instead of metrics.json, which is not used here). The code is NOT part of Vigil.

The script writes the category the way the dataset ships it (ground_truth/<type>/<id>/000.png, ... with the defect
pixel values, defects_config.json) and the anomaly maps the way the tool reads them (<maps>/<object>/test/<type>/<id>.tiff,
float32), then runs the tool's own read_maps, get_auc_spro_results (logical and structural anomalies, each with the
good images, and their mean) and get_image_level_detection_metrics (AUROC of each map's maximum). "all" (every test
image at once) is the tool's get_auc_spros_for_metrics and compute_classification_auc_roc on the whole set.
As in make_fixtures.py, ThresholdMetrics is fed every distinct score (as the threshold just below it, since the tool
binarises with score > threshold) plus one above the maximum, the exact curve the tool's adaptive sampling approximates.
The C# test (Vigil.Tests.Data.LocoEvaluationReferenceTests) rebuilds the same tree from the JSON and reads it with the
loco: loader.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile

import numpy as np
import tifffile
from PIL import Image

OBJECT = "fixture_object"
H, W = 24, 32  # non-square, so a transposed reading fails
DEFECTS = [
    {"defect_name": "missing_part", "pixel_value": 255, "saturation_threshold": 1.0, "relative_saturation": True},
    {"defect_name": "half_saturated", "pixel_value": 200, "saturation_threshold": 0.5, "relative_saturation": True},
    {"defect_name": "small_absolute", "pixel_value": 100, "saturation_threshold": 12, "relative_saturation": False},
    {"defect_name": "large_absolute", "pixel_value": 50, "saturation_threshold": 5000, "relative_saturation": False},
]
# Channel pixel values per anomalous image; several channels per image, some overlapping by chance.
LAYOUT = {
    "good": [[]] * 5,
    "logical_anomalies": [[255], [255, 200], [50, 100, 255], [200]],
    "structural_anomalies": [[100], [100, 100], [200, 50], [255], [50]],
}
BOOST = {"good": 0.0, "logical_anomalies": 0.7, "structural_anomalies": 1.1}


def blob(rng):
    yy, xx = np.mgrid[0:H, 0:W]
    cy, cx = rng.uniform(0, H), rng.uniform(0, W)
    ry, rx = rng.uniform(1.5, H / 4), rng.uniform(1.5, W / 4)
    m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    if not m.any():
        m[int(cy), int(cx)] = True
    return m


def floats(a):
    # Shortest text that reads back as the same float32 (C# float.Parse), to keep the fixture small.
    return [float(str(v)) for v in np.asarray(a, np.float32).ravel()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loco-eval", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.loco_eval)
    from metric.mvtec_loco.evaluate_experiment import (get_auc_spro_results, get_auc_spros_for_metrics,
                                                       get_image_level_detection_metrics, read_maps)
    from metric.mvtec_loco.src.aggregation import ThresholdMetrics
    from metric.mvtec_loco.src.image import DefectsConfig
    from metric.mvtec_loco.src.metrics import get_fp_tn_areas_per_image, get_spros_of_defects_of_images
    from metric.mvtec_loco.src.util import compute_classification_auc_roc

    rng = np.random.default_rng(20260507)
    images = []
    with tempfile.TemporaryDirectory() as tmp:
        dataset, maps_dir = os.path.join(tmp, "dataset", OBJECT), os.path.join(tmp, "maps", OBJECT, "test")
        os.makedirs(dataset)
        with open(os.path.join(dataset, "defects_config.json"), "w") as f:
            json.dump(DEFECTS, f)
        for kind, layout in LAYOUT.items():
            os.makedirs(os.path.join(maps_dir, kind))
            for k, values in enumerate(layout):
                name = f"{k:03d}"
                union, channels = np.zeros((H, W), bool), []
                for c, v in enumerate(values):
                    m = blob(rng)
                    union |= m
                    gt = os.path.join(dataset, "ground_truth", kind, name)
                    os.makedirs(gt, exist_ok=True)
                    Image.fromarray((m * v).astype(np.uint8)).save(os.path.join(gt, f"{c:03d}.png"))
                    channels.append({"pixel_value": v, "mask": [int(b) for b in m.ravel()]})
                a = (rng.normal(0, 1, (H, W)) + BOOST[kind] * union).astype(np.float32)
                tifffile.imwrite(os.path.join(maps_dir, kind, name + ".tiff"), a)
                images.append({"type": kind, "name": name, "map": floats(a), "channels": channels})

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            config = DefectsConfig.create_from_list(json.load(open(os.path.join(dataset, "defects_config.json"))))
            gt_maps, anomaly_maps = read_maps(os.path.join(dataset, "ground_truth"), maps_dir, config)
            distinct = np.unique(np.concatenate([m.np_array.ravel() for m in anomaly_maps]).astype(np.float64))[::-1]
            thresholds = np.concatenate([[distinct[0] + 1.0], np.nextafter(distinct, -np.inf)])
            spros = get_spros_of_defects_of_images(gt_maps, anomaly_maps, thresholds)
            fp, tn = get_fp_tn_areas_per_image(gt_maps, anomaly_maps, thresholds)
            metrics = ThresholdMetrics(gt_maps, anomaly_maps, thresholds, spros, fp, tn)
            auc_spro = get_auc_spro_results(metrics, maps_dir)["auc_spro"]
            auc_spro["all"] = get_auc_spros_for_metrics(metrics)
            auroc = get_image_level_detection_metrics(gt_maps, anomaly_maps)["auc_roc"]
        maxima = {kind: [float(np.max(m.np_array)) for m in anomaly_maps if os.path.basename(os.path.dirname(m.file_path)) == kind]
                  for kind in LAYOUT}
        auroc["all"] = compute_classification_auc_roc(maxima["good"], maxima["logical_anomalies"] + maxima["structural_anomalies"])

    expected = {group: {"image_auroc": float(auroc[group]), "auc_spro": {str(l): float(v) for l, v in auc_spro[group].items()}}
                for group in ["logical_anomalies", "structural_anomalies", "mean", "all"]}
    json.dump({"object": OBJECT, "height": H, "width": W, "defects_config": DEFECTS, "images": images, "expected": expected},
              sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
