"""Write a small mask dataset in micro_seg's own layout: python make_data.py ROOT [--train N] [--test N].

Each image is noise with a square and a disc of random colours; the mask gives their classes (1: square, 2: disc).
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 32


def one(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    image = rng.integers(0, 60, (SIZE, SIZE, 3), dtype=np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    x, y, s = rng.integers(0, SIZE - 10, 2).tolist() + [int(rng.integers(6, 10))]
    image[y:y + s, x:x + s] = rng.integers(120, 256, 3)
    mask[y:y + s, x:x + s] = 1
    cy, cx, r = rng.integers(6, SIZE - 6, 2).tolist() + [int(rng.integers(3, 6))]
    disc = (np.arange(SIZE)[:, None] - cy) ** 2 + (np.arange(SIZE)[None] - cx) ** 2 <= r * r
    image[disc] = rng.integers(120, 256, 3)
    mask[disc] = 2
    return image, mask


def write(root: Path, train: int = 192, test: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("test", test)):
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            image, mask = one(rng)
            Image.fromarray(image).save(folder / f"{i:04d}.png")
            Image.fromarray(mask).save(folder / f"{i:04d}_mask.png")
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--train", type=int, default=192)
    parser.add_argument("--test", type=int, default=64)
    args = parser.parse_args()
    print(write(args.root, args.train, args.test))
