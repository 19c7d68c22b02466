"""Reference volume renderer: orthographic emission-absorption ray marching of a scalar field (NumPy only).

A field is any callable mapping float32 (N, 3) volume coordinates ``p = (x, y, z)`` in ``[-1, 1]^3`` to N
normalized values in [0, 1] (a neural volume's ``decode_points``, or :func:`raw_field` of the voxels), so
the network and the data it was trained on render through exactly the same camera, sampling and
transfer function and their images can be compared pixel for pixel (:func:`compare`).

Geometry: the volume's box is scaled to its physical extent (voxel counts minus one times the spacing,
largest side 2) and centred at the origin; +z is up. The camera orbits the box: ``azimuth`` turns about
z from the +x axis towards +y, ``elevation`` lifts it towards +z (degrees). The view is orthographic and
frames the box's bounding sphere, so every orientation shows the whole volume at the same scale.

Sampling: each ray crosses the box in ``n = ceil(L / step)`` equal segments, ``step = diagonal / spp``
(so a ray along the diagonal gets ``spp`` samples), sampled at their midpoints: deterministic, no jitter.
The transfer function's opacity is the opacity of a segment of the reference length ``diagonal / 256``;
each sample's opacity is corrected to its segment length ``d`` as ``1 - (1 - a) ** (d / reference)``, so
images barely change with ``spp``. Samples are composited front to back and a ray stops once its
remaining transmittance is below 1/512 (less than half an 8-bit step).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ngsdk.runtime_ref import colormaps

Field = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[int, int], None]

REFERENCE_SPP = 256
"""Transfer-function opacities are per segment of length ``diagonal / REFERENCE_SPP``."""
_STOP_TRANSMITTANCE = 1.0 / 512.0
DEFAULT_CHUNK = 1 << 18


@dataclass(frozen=True)
class TransferFunction:
    """Opacity as a piecewise-linear function of the normalized value (colour comes from the colour map).

    ``points`` are ``(value, opacity)`` pairs with values non-decreasing in [0, 1] and opacities in [0, 1];
    the ramp is constant beyond the first and last point.
    """

    points: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.1, 0.0), (1.0, 0.35))

    def __post_init__(self) -> None:
        pts = tuple((float(v), float(a)) for v, a in self.points)
        if not pts:
            raise ValueError("transfer function needs at least one value:opacity point")
        for v, a in pts:
            if not (0.0 <= v <= 1.0 and 0.0 <= a <= 1.0):
                raise ValueError(f"transfer point {v:g}:{a:g} out of range (value and opacity must be in [0, 1])")
        if any(b[0] < a[0] for a, b in zip(pts, pts[1:])):
            raise ValueError("transfer function values must be in increasing order")
        object.__setattr__(self, "points", pts)

    @classmethod
    def parse(cls, text: str) -> TransferFunction:
        """Read ``"v0:a0,v1:a1,..."`` (e.g. ``"0:0,0.3:0.05,1:0.8"``)."""
        points = []
        for item in text.replace(" ", "").split(","):
            parts = item.split(":")
            try:
                if len(parts) != 2:
                    raise ValueError
                v, a = float(parts[0]), float(parts[1])
            except ValueError:
                raise ValueError(f"bad transfer point {item!r} in {text!r}: expected value:opacity, "
                                 "e.g. 0:0,0.3:0.05,1:0.8") from None
            if not (math.isfinite(v) and math.isfinite(a)):
                raise ValueError(f"bad transfer point {item!r} in {text!r}: not a finite number")
            points.append((v, a))
        return cls(tuple(points))

    def opacity(self, values: np.ndarray) -> np.ndarray:
        """Opacity per reference segment at ``values`` (float32, same shape)."""
        xs = np.array([p[0] for p in self.points], dtype=np.float64)
        ys = np.array([p[1] for p in self.points], dtype=np.float64)
        return np.interp(values, xs, ys).astype(np.float32)

    def __str__(self) -> str:
        return ",".join(f"{v:g}:{a:g}" for v, a in self.points)


def volume_extent(shape: Sequence[int], spacing: Sequence[float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Half sizes (x, y, z) of the box of a (D, H, W) volume with voxel ``spacing`` (x, y, z); largest is 1."""
    if len(shape) != 3 or min(shape) < 2:
        raise ValueError(f"volume shape {tuple(shape)} must be (D, H, W) with every axis >= 2")
    if len(spacing) != 3 or not all(s > 0 and math.isfinite(s) for s in spacing):
        raise ValueError(f"voxel spacing {tuple(spacing)} must be three positive numbers (x, y, z)")
    d, h, w = shape
    ext = np.array([(w - 1) * spacing[0], (h - 1) * spacing[1], (d - 1) * spacing[2]], dtype=np.float64)
    return ext / ext.max()


def raw_field(values: np.ndarray) -> Field:
    """Trilinear sampling of a (D, H, W) array at volume coordinates (voxel ``(k, j, i)`` at the corners-aligned
    position of the spec); points outside the box take the nearest edge value."""
    vol = np.ascontiguousarray(values, dtype=np.float32)
    if vol.ndim != 3 or min(vol.shape) < 2:
        raise ValueError(f"raw volume must be (D, H, W) with every axis >= 2, got shape {vol.shape}")
    d, h, w = vol.shape
    flat = vol.ravel()
    top = np.array([w - 1, h - 1, d - 1], dtype=np.float32)
    scale = np.float32(0.5) * top
    strides = np.array([1, w, w * h], dtype=np.intp)

    def field(p: np.ndarray) -> np.ndarray:
        u = (np.asarray(p, dtype=np.float32).reshape(-1, 3) + np.float32(1)) * scale
        np.clip(u, 0, top, out=u)
        i0 = np.minimum(u.astype(np.intp), (top - 1).astype(np.intp))   # u >= 0, so truncation is floor
        f = u - i0
        base = i0 @ strides
        fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]

        def plane(b: np.ndarray) -> np.ndarray:   # bilinear in x, y on the z slice starting at b
            lo = flat[b] + fx * (flat[b + 1] - flat[b])
            hi = flat[b + w] + fx * (flat[b + w + 1] - flat[b + w])
            return lo + fy * (hi - lo)

        z0 = plane(base)
        return z0 + fz * (plane(base + w * h) - z0)

    return field


def _camera(azimuth: float, elevation: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(view direction, right, up) unit vectors of a camera at the given angles (degrees)."""
    az, el = math.radians(azimuth), math.radians(elevation)
    eye = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    right = np.array([-math.sin(az), math.cos(az), 0.0])   # horizontal at every elevation, even +-90
    view = -eye
    up = np.cross(right, view)
    return view, right, up


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    width, height = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if width < 1 or height < 1:
        raise ValueError(f"image size {width}x{height} must be at least 1x1")
    return int(width), int(height)


def render(
    field: Field,
    shape: Sequence[int],
    *,
    azimuth: float = 45.0,
    elevation: float = 30.0,
    size: int | Sequence[int] = (512, 512),
    spp: int = 256,
    colormap: str = "viridis",
    transfer: TransferFunction | str | None = None,
    background: Sequence[int] = (0, 0, 0),
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> np.ndarray:
    """Render ``field`` over the box of a (D, H, W) volume: uint8 (height, width, 3) sRGB.

    ``size`` is (width, height) or one number; ``background`` 8-bit RGB; ``spacing`` voxel size (x, y, z);
    ``transfer`` a :class:`TransferFunction` or its text form (default ramp when None). The field is called
    with at most ``chunk`` points at a time; ``progress(done, total)`` reports samples-per-ray steps.
    """
    width, height = _size(size)
    if spp < 1:
        raise ValueError(f"spp must be >= 1, got {spp}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if isinstance(transfer, str):
        transfer = TransferFunction.parse(transfer)
    transfer = transfer or TransferFunction()
    colormaps.anchors(colormap)   # unknown names fail before any work
    bg = np.asarray(background, dtype=np.float32).reshape(3) / np.float32(255)
    half = volume_extent(shape, spacing)
    radius = float(np.linalg.norm(half))            # bounding sphere: the framing is the same at any angle
    diagonal = 2.0 * radius
    step, reference = diagonal / spp, diagonal / REFERENCE_SPP
    view, right, up = _camera(azimuth, elevation)

    # one orthographic ray per pixel centre, starting outside the box on the camera's side
    pixel = 2.0 * radius / min(width, height)
    u = (np.arange(width) + 0.5 - width / 2) * pixel
    v = (height / 2 - np.arange(height) - 0.5) * pixel
    origin = (v[:, None, None] * up + u[None, :, None] * right - 2.0 * radius * view).reshape(-1, 3)

    # slab test against the box, in world units along the ray
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / view
        t0, t1 = (-half - origin) * inv, (half - origin) * inv
    flat_axis = view == 0.0
    t0[:, flat_axis], t1[:, flat_axis] = -np.inf, np.inf
    t_near = np.minimum(t0, t1).max(axis=1)
    t_far = np.maximum(t0, t1).min(axis=1)
    length = t_far - t_near
    # a ray parallel to a slab is inside it everywhere or nowhere
    length[np.any(np.abs(origin[:, flat_axis]) > half[flat_axis], axis=1)] = 0.0
    n_samples = np.where(length > 0, np.ceil(length / step - 1e-9), 0).clip(0, spp).astype(np.int64)

    colour = np.zeros((width * height, 3), dtype=np.float32)
    transmittance = np.ones(width * height, dtype=np.float32)
    rays = np.flatnonzero(n_samples > 0)
    total = int(n_samples.max(initial=0))
    if rays.size:
        seg = length[rays] / n_samples[rays]
        # march in volume coordinates: p = (origin + t view) / half
        start = ((origin[rays] + (t_near[rays] + 0.5 * seg)[:, None] * view) / half).astype(np.float32)
        delta = ((seg[:, None] * view) / half).astype(np.float32)
        exponent = (seg / reference).astype(np.float32)
        _march(field, start, delta, exponent, n_samples[rays], rays, colour, transmittance,
               transfer, colormap, chunk, total, progress)
    image = colour + transmittance[:, None] * bg
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).reshape(height, width, 3)


def _march(field: Field, start: np.ndarray, delta: np.ndarray, exponent: np.ndarray, n_samples: np.ndarray,
           rays: np.ndarray, colour: np.ndarray, transmittance: np.ndarray, transfer: TransferFunction,
           colormap: str, chunk: int, total: int, progress: Progress | None) -> None:
    """Front-to-back compositing of all rays, a group of samples per ray at a time (at most ``chunk`` points)."""
    active = np.arange(rays.size)
    first = 0
    while active.size:
        # as rays finish or saturate, take more steps per pass so each field call stays near ``chunk`` points
        group = int(max(1, min(chunk // active.size, total - first)))
        k = np.arange(first, first + group)
        valid = k[None, :] < n_samples[active, None]
        points = start[active, None, :] + k.astype(np.float32)[None, :, None] * delta[active, None, :]
        values = np.zeros(valid.shape, dtype=np.float32)
        values[valid] = _evaluate(field, points[valid], chunk)
        alpha = transfer.opacity(values)
        alpha = -np.expm1(exponent[active, None] * np.log1p(-np.minimum(alpha, np.float32(1 - 1e-7))))
        alpha[~valid] = 0.0
        # transmittance before each sample of the group, then the group's emission in one sum
        through = np.cumprod(1.0 - alpha, axis=1, dtype=np.float32)
        before = np.concatenate([np.ones((active.size, 1), np.float32), through[:, :-1]], axis=1)
        emitted = np.einsum("rk,rkc->rc", before * alpha, colormaps.apply(colormap, values))
        idx = rays[active]
        colour[idx] += transmittance[idx, None] * emitted
        transmittance[idx] *= through[:, -1]
        first += group
        active = active[(n_samples[active] > first) & (transmittance[idx] >= _STOP_TRANSMITTANCE)]
        if progress is not None:
            progress(total if not active.size else first, total)


def _evaluate(field: Field, points: np.ndarray, chunk: int) -> np.ndarray:
    out = np.empty(len(points), dtype=np.float32)
    for lo in range(0, len(points), chunk):
        p = np.ascontiguousarray(points[lo:lo + chunk], dtype=np.float32)
        got = np.asarray(field(p), dtype=np.float32).reshape(-1)
        if got.shape[0] != p.shape[0]:
            raise ValueError(f"field returned {got.shape[0]} values for {p.shape[0]} points")
        out[lo:lo + chunk] = got
    np.nan_to_num(out, copy=False, nan=0.0)   # a NaN would poison every later sample of its ray
    return np.clip(out, 0.0, 1.0, out=out)


def difference_stats(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    """Largest and mean absolute difference (8-bit units, over all channels) of two uint8 images."""
    _same_images([a, b])
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return int(diff.max(initial=0)), float(diff.mean()) if diff.size else 0.0


def difference_image(a: np.ndarray, b: np.ndarray, *, amplify: float = 4.0) -> np.ndarray:
    """Grey image of the per-pixel largest channel difference of two uint8 images, times ``amplify``."""
    _same_images([a, b])
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2).astype(np.float32)
    grey = np.round(np.clip(diff * np.float32(amplify), 0, 255)).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def _same_images(images: Sequence[np.ndarray]) -> None:
    for im in images:
        if not (isinstance(im, np.ndarray) and im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3):
            got = getattr(im, "shape", type(im).__name__)
            raise ValueError(f"images must be uint8 (H, W, 3) arrays, got {getattr(im, 'dtype', '')} {got}")
        if im.shape != images[0].shape:
            raise ValueError(f"images differ in size: {images[0].shape} and {im.shape}")


def compare(images: Sequence[np.ndarray], labels: Sequence[str], *, difference: bool = True,
            amplify: float = 4.0, gap: int = 4) -> np.ndarray:
    """Panels side by side, each under its label; with two or more images and ``difference``, a last panel
    shows ``difference_image(images[0], images[1])`` labelled with the largest and mean difference.

    Layout: a label strip on top, panels ``gap`` pixels apart; uint8 (strip + H, n * W + (n - 1) * gap, 3).
    """
    from PIL import Image, ImageDraw, ImageFont

    if not images:
        raise ValueError("compare needs at least one image")
    if len(labels) != len(images):
        raise ValueError(f"compare got {len(images)} images but {len(labels)} labels")
    _same_images(images)
    panels, texts = list(images), list(labels)
    if difference and len(images) >= 2:
        worst, mean = difference_stats(images[0], images[1])
        panels.append(difference_image(images[0], images[1], amplify=amplify))
        texts.append(f"difference x{amplify:g}: max {worst}, mean {mean:.2f}")
    h, w = images[0].shape[:2]
    font_size = int(np.clip(w // 26, 10, 22))
    try:
        font = ImageFont.load_default(size=font_size)
    except (TypeError, OSError, ImportError):   # Pillow without FreeType: the built-in bitmap font
        font = ImageFont.load_default()
    strip = font.getbbox("Ag|")[3] + 6
    canvas = Image.new("RGB", (len(panels) * w + (len(panels) - 1) * gap, strip + h), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    for i, (panel, text) in enumerate(zip(panels, texts)):
        x = i * (w + gap)
        canvas.paste(Image.fromarray(panel), (x, strip))
        draw.text((x + 3, 3), _fit(draw, font, text, w - 6), fill=(235, 235, 235), font=font)
    return np.asarray(canvas, dtype=np.uint8).copy()


def _fit(draw: object, font: object, text: str, width: int) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..." if text else ""


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of a uint8 (H, W, 3) image (write it with ngsdk.asset.atomic.atomic_write_bytes)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
