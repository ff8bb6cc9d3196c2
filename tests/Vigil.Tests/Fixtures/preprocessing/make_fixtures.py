"""Makes pil_resize.json: PIL's resampling of small fixed images, the reference for Vigil's PilResize.

Run (Debian: apt-get install python3-pil python3-numpy):
    /usr/bin/python3 make_fixtures.py > pil_resize.json

torchvision's Resize on a PIL image is PIL's Image.resize with the given filter (torchvision >= 0.11: BILINEAR by
default, as PatchCore uses it; Image.ANTIALIAS, i.e. LANCZOS, in PaDiM and SPADE; NEAREST for their masks).
Each case stores the 8-bit input, PIL's result on the 'F' (float32) version of every channel, which PIL resamples
in double precision without rounding, and PIL's result on the 8-bit image itself, which it rounds to 8 bits after
each of its two passes (the difference Vigil's float resampling keeps on purpose).
"""
import json
import sys

import numpy as np
import PIL
from PIL import Image

FILTERS = {"AntialiasedBilinear": Image.BILINEAR, "AntialiasedLanczos": Image.LANCZOS}
SIZES = [(12, 19), (40, 63), (15, 37), (33, 23)]  # (height, width): shrink, enlarge, mixed, one side unchanged


def test_image(height, width):
    rng = np.random.RandomState(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255.0 / width, y * 255.0 / height, 128 + 60 * np.sin(x / 3.0 + y / 5.0)], axis=-1)
    base += rng.normal(0, 20, base.shape)
    base[8:20, 15:30, :] = [250, 5, 250]  # hard edges: Lanczos overshoots there
    return np.clip(np.round(base), 0, 255).astype(np.uint8)


def test_mask(height, width):
    y, x = np.mgrid[0:height, 0:width]
    blob = ((y - 15) ** 2 / 49.0 + (x - 22) ** 2 / 144.0) <= 1
    line = (np.abs(y - x // 2 - 3) <= 1) & (x > 32)
    return np.where(blob | line, 255, 0).astype(np.uint8)


def main():
    image = test_image(33, 52)
    mask = test_mask(33, 52)
    cases = []
    for name, resample in FILTERS.items():
        for h, w in SIZES:
            as_float = [np.asarray(Image.fromarray(image[:, :, c].astype(np.float32), mode="F").resize((w, h), resample))
                        for c in range(3)]
            as_uint8 = np.asarray(Image.fromarray(image, mode="RGB").resize((w, h), resample))
            cases.append({
                "filter": name, "height": h, "width": w,
                "float": [round(float(v), 4) for v in np.stack(as_float).ravel()],
                "uint8": as_uint8.transpose(2, 0, 1).ravel().tolist(),
            })
    masks = []
    for h, w in SIZES:
        masks.append({
            "height": h, "width": w,
            "nearest": (np.asarray(Image.fromarray(mask, mode="L").resize((w, h), Image.NEAREST)) > 0).astype(int).ravel().tolist(),
            "bilinear_uint8": np.asarray(Image.fromarray(mask, mode="L").resize((w, h), Image.BILINEAR)).ravel().tolist(),
        })
    json.dump({
        "pillow": PIL.__version__,
        "image": {"height": 33, "width": 52, "rgb": image.transpose(2, 0, 1).ravel().tolist()},
        "mask": {"height": 33, "width": 52, "values": (mask > 0).astype(int).ravel().tolist()},
        "cases": cases,
        "masks": masks,
    }, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
