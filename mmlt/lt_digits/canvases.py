"""LT-Digits' det / seg canvases (see mmlt/lt_digits/__init__.py).

A canvas is MNIST digits pasted at random scale, position and colour on a
noisy dark background. :func:`place_digits` makes every random draw;
:func:`render_canvas` is a pure function of its result, so the det and seg
writers can each render the same canvases and get the same pictures.
"""
from typing import List, Tuple

import cv2
import numpy as np

# Digit intensity (0..255 after resizing) at or above FOREGROUND is the
# digit's foreground (det masks and boxes).
FOREGROUND = 128
# A seg label marks the digit's region, its foreground grown by SEG_REGION
# pixels, as ADE20K labels an object's region rather than its outline. A
# 2-px stroke is a fraction of one cell of an output-stride-8 feature map:
# stage 1s trained on stroke labels found no tail digit (docs/en/results.md).
# The one-pixel ring around a region is unlabeled, like ADE20K's boundaries,
# and so is a pixel that two regions claim.
SEG_REGION = 4

# Seg label values on disk (ADE20K convention, before reduce_zero_label).
SEG_UNLABELED = 0
SEG_BACKGROUND = 1
SEG_FIRST_DIGIT = 2

# Digits are pasted at 28 * scale pixels.
SCALE_RANGE = (0.8, 1.5)
# Empty pixels kept between the foreground boxes of two digits, so the
# masks never overlap and each pixel has one label.
GAP = 3


def place_digits(instances: List[Tuple[int, int]], images: np.ndarray,
                 rng: np.random.Generator, size: int, max_per_canvas: int):
    """Lay ``(class, mnist_index)`` instances out on canvases.

    Each canvas takes 1..max_per_canvas digits at random scale and position;
    a digit whose foreground box cannot be kept GAP pixels away from the
    others after a few tries moves on to the next canvas. Returns a list of
    ``(background, placed)``: the float background and per digit a dict
    (cls, index, x, y, resized alpha, color).
    """
    queue = list(instances)
    canvases = []
    while queue:
        want = int(rng.integers(1, max_per_canvas + 1))
        placed, boxes = [], []
        while queue and len(placed) < want:
            cls, index = queue[0]
            side = int(round(28 * rng.uniform(*SCALE_RANGE)))
            side = min(side, size)
            alpha = cv2.resize(images[index], (side, side),
                               interpolation=cv2.INTER_LINEAR)
            ys, xs = np.nonzero(alpha >= FOREGROUND)
            if len(xs) == 0:  # cannot happen for MNIST; be safe
                queue.pop(0)
                continue
            fx0, fy0, fx1, fy1 = xs.min(), ys.min(), xs.max(), ys.max()
            ok = False
            for _ in range(30):
                x = int(rng.integers(0, size - side + 1))
                y = int(rng.integers(0, size - side + 1))
                box = (x + fx0, y + fy0, x + fx1, y + fy1)
                if all(box[0] > b[2] + GAP or b[0] > box[2] + GAP
                       or box[1] > b[3] + GAP or b[1] > box[3] + GAP
                       for b in boxes):
                    ok = True
                    break
            if ok:
                queue.pop(0)
                boxes.append(box)
                color = rng.integers(160, 256, size=3)
                placed.append(dict(cls=cls, index=index, x=x, y=y,
                                   alpha=alpha, color=color))
            else:
                if not placed:  # an empty canvas always fits one digit
                    raise RuntimeError('canvas too small for a digit')
                break
        level = int(rng.integers(0, 40))
        noise = rng.normal(0, 8, size=(size, size, 3))
        background = np.clip(level + noise, 0, 255)
        canvases.append((background, placed))
    return canvases


def render_canvas(background: np.ndarray, placed: List[dict]):
    """Blend the digits onto the background; return the RGB image, the seg
    label map (ADE20K values) and per digit its foreground mask."""
    size = background.shape[0]
    img = background.copy()
    regions = np.zeros((size, size), np.int16)  # regions claiming a pixel
    region_cls = np.zeros((size, size), np.uint8)
    ring = np.zeros((size, size), bool)
    masks = []
    for p in placed:
        side = p['alpha'].shape[0]
        win = (slice(p['y'], p['y'] + side), slice(p['x'], p['x'] + side))
        a = p['alpha'].astype(np.float64)[..., None] / 255.0
        img[win] = img[win] * (1 - a) + p['color'][None, None] * a
        mask = np.zeros((size, size), np.uint8)
        mask[win] = p['alpha'] >= FOREGROUND
        masks.append(mask)
        region = _grow(mask, SEG_REGION)
        regions += region
        region_cls[region] = SEG_FIRST_DIGIT + p['cls']
        ring |= _grow(mask, SEG_REGION + 1) & ~region
    label = np.full((size, size), SEG_BACKGROUND, np.uint8)
    label[ring] = SEG_UNLABELED
    label[regions == 1] = region_cls[regions == 1]
    label[regions > 1] = SEG_UNLABELED
    return np.round(img).astype(np.uint8), label, masks


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` dilated by ``pixels`` (a square neighbourhood), as bool."""
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask, kernel).astype(bool)


def mask_polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons (outer contours) of a binary mask; contours of fewer
    than 3 points are dropped, and the mask's box is the fallback so every
    instance has a polygon."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polys = [
        c.reshape(-1, 2).astype(float).ravel().tolist() for c in contours
        if len(c) >= 3
    ]
    if not polys:
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = (float(xs.min()), float(ys.min()), float(xs.max()),
                          float(ys.max()))
        polys = [[x0, y0, x1, y0, x1, y1, x0, y1]]
    return polys
