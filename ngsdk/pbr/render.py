"""Torch renderer of a tiled material plane under a procedural sky and sun (the synthetic captures).

Scene (after NeuroPBR's renderer): the plane y = 0 with the material repeated every ``tile`` units and clipped
at +-``extent``; cameras on a hemisphere of radius 0.6, tilt 0..40 degrees from the zenith, any azimuth, 55 degree
vertical field of view, either upright over the centre of a tile (``aligned``, ngsdk's default) or with the
random roll of NeuroPBR's setup around the origin (``free``; see :func:`sample_cameras`). Shading is
Cook-Torrance (GGX distribution, Smith-Schlick visibility, Schlick Fresnel) for the sun plus image-based light
from an analytic sky: hemisphere irradiance for the diffuse part and the sky radiance in the reflected
direction, blurred towards its mean with roughness, times the analytic split-sum term for the specular part
(no HDRIs are available here).

Texture space: u runs along world +x, image rows (v) along world +z, so the OpenGL normal-map +Y (towards the
top of the image) is world -z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0.04045, ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, x / 12.92)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0.0031308, 1.055 * x.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, x * 12.92)


def _unit(v: torch.Tensor, dim: int = -1) -> torch.Tensor:
    # sum of squares rather than torch.norm: the norm's reduction over a 3-wide last axis is ~5x slower on CPU
    return v * torch.rsqrt((v * v).sum(dim, keepdim=True).clamp(min=1e-16))


@dataclass
class Cameras:
    """``n`` pinhole cameras: positions (n, 3), orthonormal right/up/forward (n, 3) each, vertical FOV (deg)."""

    position: torch.Tensor
    right: torch.Tensor
    up: torch.Tensor
    forward: torch.Tensor
    fov: float


CAMERA_MODES = ("aligned", "free")


def sample_cameras(n: int, gen: torch.Generator, *, radius: float = 0.6, max_tilt: float = 40.0,
                   fov: float = 55.0, target_jitter: float = 0.05, mode: str = "free",
                   tile: float = 0.5) -> Cameras:
    """Cameras on the hemisphere: azimuth U[0, 360), tilt U[0, max_tilt] degrees, looking at a point near the
    origin (``mode="free"``, NeuroPBR's setup) or near the centre of the tile at the origin (``"aligned"``).

    ``free``: the image's up is the world up projected onto the image plane (at tilt 0 it points away from the
    azimuth, so a random azimuth also gives a random roll): the material appears at a random rotation in every
    view, and no network can tell which way its maps' axes point. ``aligned``: the image's up is the material's
    +v (world -z) projected onto the image plane, as a capture app that asks for an upright phone gets: the three
    views and the ground-truth maps share their orientation (up to the perspective of the tilt) and their
    centre, so the maps can be predicted pixel by pixel.
    """
    if mode not in CAMERA_MODES:
        raise ValueError(f"camera mode must be one of {', '.join(CAMERA_MODES)}, got {mode!r}")
    phi = torch.rand(n, generator=gen, dtype=torch.float64) * 2 * math.pi
    theta = torch.rand(n, generator=gen, dtype=torch.float64) * math.radians(max_tilt)
    st, ct, sp, cp = theta.sin(), theta.cos(), phi.sin(), phi.cos()
    centre = tile / 2 if mode == "aligned" else 0.0
    pos = torch.stack([centre + radius * st * cp, radius * ct, centre + radius * st * sp], -1)
    target = torch.full((n, 3), centre, dtype=torch.float64)
    target[:, 1] = 0.0
    target[:, 0::2] += (torch.rand(n, 2, generator=gen, dtype=torch.float64) * 2 - 1) * target_jitter
    fwd = _unit(target - pos)
    if mode == "aligned":
        up_ref = torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64).expand(n, 3)
    else:
        up_ref = torch.stack([-ct * cp, st, -ct * sp], -1)
    right = _unit(torch.cross(fwd, up_ref, dim=-1))
    up = torch.cross(right, fwd, dim=-1)
    f32 = torch.float32
    return Cameras(pos.to(f32), right.to(f32), up.to(f32), fwd.to(f32), fov)


@dataclass
class Lighting:
    """Sun direction (unit, towards the sun) and radiance, sky colours at zenith and horizon, ground bounce."""

    sun_dir: torch.Tensor
    sun: torch.Tensor
    zenith: torch.Tensor
    horizon: torch.Tensor
    ground: torch.Tensor


def sample_lighting(gen: torch.Generator) -> Lighting:
    """A random clear or hazy daylight: sun elevation 15..80 degrees, warm-to-neutral sun, blue-to-grey sky."""
    def u(lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=gen))

    elev, azim = math.radians(u(15, 80)), u(0, 2 * math.pi)
    sun_dir = torch.tensor([math.cos(elev) * math.cos(azim), math.sin(elev), math.cos(elev) * math.sin(azim)])
    warmth = u(0.0, 1.0) * (1.0 - math.sin(elev)) + u(0.0, 0.2)  # low suns are warmer
    sun_colour = torch.tensor([1.0, 1.0 - 0.25 * warmth, 1.0 - 0.55 * warmth])
    haze = u(0.0, 1.0)  # 0 clear blue sky, 1 overcast grey
    zenith = torch.tensor([0.25, 0.45, 0.95]) * (1 - haze) + torch.tensor([0.75, 0.78, 0.82]) * haze
    horizon = torch.tensor([0.75, 0.85, 1.0]) * (1 - haze) + torch.tensor([0.85, 0.86, 0.88]) * haze
    sky_level = u(0.25, 0.6) * (1 + 1.5 * haze)
    sun_level = u(2.0, 4.0) * (1 - 0.75 * haze)
    ground = torch.tensor([0.30, 0.27, 0.22]) * u(0.1, 0.3)
    return Lighting(sun_dir, sun_colour * sun_level, zenith * sky_level, horizon * sky_level, ground)


def sky_radiance(d: torch.Tensor, light: Lighting) -> torch.Tensor:
    """Sky radiance (..., 3) in unit directions ``d`` (..., 3): zenith/horizon gradient plus a glow around the
    sun; the ground colour below the horizon."""
    y = d[..., 1:2]
    t = y.clamp(min=0).sqrt()
    sky = light.horizon * (1 - t) + light.zenith * t
    glow = (d * light.sun_dir).sum(-1, keepdim=True).clamp(min=0) ** 64 * 0.4 * light.sun
    return torch.where(y > 0, sky + glow, light.ground.expand_as(sky))


def _env_brdf(f0: torch.Tensor, rough: torch.Tensor, nov: torch.Tensor) -> torch.Tensor:
    """Analytic fit of the split-sum specular term (Karis, "Physically Based Shading on Mobile")."""
    c0 = torch.tensor([-1.0, -0.0275, -0.572, 0.022], device=rough.device)
    c1 = torch.tensor([1.0, 0.0425, 1.04, -0.04], device=rough.device)
    r = rough * c0 + c1
    a004 = torch.minimum(r[..., 0:1] ** 2, torch.exp2(-9.28 * nov)) * r[..., 0:1] + r[..., 1:2]
    a = a004 * -1.04 + r[..., 2:3]
    b = a004 * 1.04 + r[..., 3:4]
    return f0 * a + b


def _sample_wrapped(tex: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Bilinear lookup with wrap-around: ``tex`` (C, H, W), ``uv`` (..., 2) in texture periods -> (..., C)."""
    c, h, w = tex.shape
    padded = torch.cat([tex[:, -1:], tex, tex[:, :1]], 1)
    padded = torch.cat([padded[:, :, -1:], padded, padded[:, :, :1]], 2)
    frac = uv - uv.floor()
    # texel centres of the padded texture: index k + 1 holds texel k at (k + 0.5) / size
    gx = (frac[..., 0] * w + 0.5) / (w + 1) * 2 - 1
    gy = (frac[..., 1] * h + 0.5) / (h + 1) * 2 - 1
    grid = torch.stack([gx, gy], -1).reshape(1, -1, 1, 2)
    out = F.grid_sample(padded[None], grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out[0, :, :, 0].T.reshape(*uv.shape[:-1], c)


@dataclass
class RenderedViews:
    """Linear radiance of each view split by light (so shadows can dim the sun only), both (V, H, W, 3); the
    plane coordinates (V, H, W, 2) of each pixel and a mask (V, H, W, 1) of pixels on the plane."""

    sun: torch.Tensor
    sky: torch.Tensor
    plane_xz: torch.Tensor
    on_plane: torch.Tensor


def render_plane(material: torch.Tensor, cams: Cameras, light: Lighting, size: int, *, tile: float = 0.5,
                 extent: float = 1.5, supersample: int = 2) -> RenderedViews:
    """Render the material (8, H, W): sRGB albedo, roughness, metallic, unit normal (OpenGL) tiled on the plane,
    once per camera, at ``size`` x ``size`` pixels (``supersample``^2 rays per pixel, box-filtered)."""
    dev = material.device
    s = size * supersample
    tanf = math.tan(math.radians(cams.fov) / 2)
    coords = (torch.arange(s, device=dev, dtype=torch.float32) + 0.5) / s * 2 - 1
    py, px = torch.meshgrid(-coords, coords, indexing="ij")
    d = (cams.forward.to(dev)[:, None, None] + (px[..., None] * cams.right.to(dev)[:, None, None]
         + py[..., None] * cams.up.to(dev)[:, None, None]) * tanf)
    d = _unit(d)
    pos = cams.position.to(dev)[:, None, None]
    t = -pos[..., 1:2] / d[..., 1:2].clamp(max=-1e-4)
    hit = pos + t * d
    on = (hit[..., 0].abs() <= extent) & (hit[..., 2].abs() <= extent) & (d[..., 1] < 0)
    uv = torch.stack([hit[..., 0], hit[..., 2]], -1) / tile
    tex = torch.cat([srgb_to_linear(material[0:3]), material[3:8]], 0)
    m = _sample_wrapped(tex, uv)
    albedo, rough, metal = m[..., 0:3].clamp(0, 1), m[..., 3:4].clamp(0.045, 1), m[..., 4:5].clamp(0, 1)
    nt = _unit(m[..., 5:8])
    n = torch.stack([nt[..., 0], nt[..., 2], -nt[..., 1]], -1)  # tangent (u, v-up, z) -> world (x, y, z)

    v = -d
    nov = (n * v).sum(-1, keepdim=True).clamp(min=1e-4)
    sun_dir = light.sun_dir.to(dev)
    nol = (n * sun_dir).sum(-1, keepdim=True).clamp(min=0)
    h = _unit(v + sun_dir)
    noh = (n * h).sum(-1, keepdim=True).clamp(min=0)
    voh = (v * h).sum(-1, keepdim=True).clamp(min=0)
    f0 = 0.04 * (1 - metal) + albedo * metal
    a2 = (rough * rough) ** 2
    dist = a2 / (math.pi * (noh * noh * (a2 - 1) + 1) ** 2)
    k = (rough + 1) ** 2 / 8
    vis = (nov / (nov * (1 - k) + k)) * (nol / (nol * (1 - k) + k)) / (4 * nov * nol.clamp(min=1e-4))
    fres = f0 + (1 - f0) * (1 - voh) ** 5
    diffuse = (1 - fres) * (1 - metal) * albedo / math.pi
    lt = Lighting(sun_dir, light.sun.to(dev), light.zenith.to(dev), light.horizon.to(dev), light.ground.to(dev))
    sun = (diffuse + dist * vis * fres) * lt.sun * nol

    # sky: hemisphere irradiance for the diffuse part, blurred reflection x split-sum for the specular part
    sky_mean = 0.5 * (lt.zenith + lt.horizon)
    irradiance = lt.ground + (sky_mean - lt.ground) * (0.5 + 0.5 * n[..., 1:2])
    refl = _unit(2 * nov * n - v)
    prefiltered = sky_radiance(refl, lt) * (1 - rough) + sky_mean * rough
    sky = irradiance * (1 - metal) * albedo + prefiltered * _env_brdf(f0, rough, nov)

    off = (~on)[..., None]
    background = lt.ground * 0.5
    sun = torch.where(off, torch.zeros_like(sun), sun)
    sky = torch.where(off, background.expand_as(sky), sky)

    def pool(x: torch.Tensor) -> torch.Tensor:
        if supersample == 1:
            return x
        return F.avg_pool2d(x.permute(0, 3, 1, 2), supersample).permute(0, 2, 3, 1)

    return RenderedViews(pool(sun), pool(sky), pool(hit[..., 0::2]), pool(on[..., None].float()))


def tonemap(hdr: torch.Tensor, key: float) -> torch.Tensor:
    """Auto-exposure to mean luminance ``key``, then a filmic curve (Narkowicz's ACES fit), sRGB-encoded."""
    lum = (hdr * torch.tensor([0.2126, 0.7152, 0.0722], device=hdr.device)).sum(-1)
    scale = key / lum.mean(dim=(-2, -1), keepdim=True).clamp(min=1e-4)
    x = hdr * scale[..., None]
    mapped = (x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)
    return linear_to_srgb(mapped.clamp(0, 1))
