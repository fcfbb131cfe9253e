#!/usr/bin/python3
"""make_images.py DIR - the photos bench_image times (fixed seed):
phone-like JPEGs of 12 MP (EXIF with GPS; orientation 1 and 6; baseline
and progressive), a 3 MP photo saved as PNG, and a screenshot PNG."""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
random.seed(42)


def photo(w, h):
    # Smooth shapes plus sensor noise: closer to a photo than pure noise.
    im = Image.new("RGB", (w, h), (120, 140, 160))
    d = ImageDraw.Draw(im)
    for _ in range(300):
        x, y = random.randrange(w), random.randrange(h)
        r = random.randrange(20, w // 6)
        d.ellipse((x - r, y - r, x + r, y + r),
                  fill=tuple(random.randrange(256) for _ in range(3)))
    im = im.filter(ImageFilter.GaussianBlur(6))
    noise = Image.effect_noise((w, h), 12).convert("RGB")
    return Image.blend(im, noise, 0.12)


def exif(orientation):
    ex = Image.Exif()
    ex[0x010F] = "Phone"
    ex[0x0112] = orientation
    ex[0x8825] = {1: "N", 2: (47.0, 23.0, 39.12), 3: "E", 4: (0.0, 41.0, 5.3)}
    return ex.tobytes()


p = photo(4000, 3000)
p.save(os.path.join(out, "photo-12mp.jpg"), quality=88, exif=exif(1))
p.save(os.path.join(out, "photo-12mp-orient6.jpg"), quality=88, exif=exif(6))
p.save(os.path.join(out, "photo-12mp-progressive.jpg"), quality=88,
       progressive=True, exif=exif(1))
p.resize((2000, 1500)).save(os.path.join(out, "photo-3mp.png"))
s = Image.new("RGB", (1600, 1000), (250, 250, 250))
d = ImageDraw.Draw(s)
for i in range(0, 1000, 20):
    d.text((10, i), "Capture d'écran, ligne %d" % i, fill=(20, 20, 20))
    d.rectangle((800, i, 800 + i // 2, i + 10), fill=(i % 255, 100, 200))
s.save(os.path.join(out, "capture-1600x1000.png"))
