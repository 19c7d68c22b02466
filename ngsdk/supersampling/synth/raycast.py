"""The ray caster (device-agnostic torch): primary rays through capture-pixel centres, analytic quads,
boxes and spheres, one hard shadow ray to the sun, Lambert + GGX (Smith-Schlick, Fresnel-Schlick) under
the sun plus ambient; exact device depth and motion (current minus previous pixel position of the
surface point, or of the sky direction) per capture pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ngsdk.supersampling.synth.materials import TextureBank
from ngsdk.supersampling.synth.scene import Scene

SKY = -1
LOD_MIN_COS = 0.25
"""Grazing hits pick their mip as if seen at this cosine (isotropic filtering stand-in)."""


@dataclass
class View:
    """One frame's camera (camera-to-world rotation, position) and the pose of every body."""

    rot: torch.Tensor
    pos: torch.Tensor
    bodies: list[tuple[torch.Tensor, torch.Tensor]]


def view_at(scene: Scene, t: float, device: torch.device) -> View:
    def dev(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, np.float64), dtype=torch.float32, device=device)

    r, p = scene.camera.pose(t)
    return View(dev(r), dev(p), [tuple(dev(a) for a in b.pose(t)) for b in scene.bodies])


def _intersect(kind: str, size: torch.Tensor, o: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Ray parameter of the first hit in front of ``o`` (inf for none); local space (N, 3)."""
    inf = torch.full_like(o[:, 0], math.inf)
    if kind == "quad":
        t = -o[:, 1] / torch.where(d[:, 1].abs() > 1e-12, d[:, 1], torch.full_like(d[:, 1], 1e-12))
        p = o + t.unsqueeze(1) * d
        ok = (t > 1e-4) & (p[:, 0].abs() <= size[0]) & (p[:, 2].abs() <= size[2])
        return torch.where(ok, t, inf)
    if kind == "box":
        inv = 1.0 / torch.where(d.abs() > 1e-12, d, torch.full_like(d, 1e-12))
        t1, t2 = (-size - o) * inv, (size - o) * inv
        tn = torch.minimum(t1, t2).amax(dim=1)
        tf = torch.maximum(t1, t2).amin(dim=1)
        ok = (tn <= tf) & (tn > 1e-4)
        return torch.where(ok, tn, inf)
    r = size[0]
    a = (d * d).sum(1)
    b = (o * d).sum(1)
    c = (o * o).sum(1) - r * r
    disc = b * b - a * c
    t = (-b - torch.sqrt(disc.clamp_min(0))) / a
    return torch.where((disc >= 0) & (t > 1e-4), t, inf)


def _local(view: View, i: int, o: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r, p = view.bodies[i]
    return (o - p) @ r, d @ r


def _surface(kind: str, size: torch.Tensor, uv_per_m: float, p: torch.Tensor):
    """Local normal, tangent, bitangent (+v up the texture), uv and uv-per-metre of points ``p``."""
    n = torch.zeros_like(p)
    if kind == "quad":
        n[:, 1] = 1.0
        t = torch.zeros_like(p)
        t[:, 0] = 1.0
        if uv_per_m > 0:
            u = (p[:, 0] + size[0]) * uv_per_m
            v = (p[:, 2] + size[2]) * uv_per_m
        else:  # one copy of the picture stretched over the quad
            u = (p[:, 0] + size[0]) / (2 * size[0])
            v = (p[:, 2] + size[2]) / (2 * size[2])
        scale = torch.full_like(u, uv_per_m if uv_per_m > 0 else float(1 / (2 * size[0])))
    elif kind == "box":
        q = p / size
        axis = q.abs().argmax(dim=1)
        n.scatter_(1, axis.unsqueeze(1), torch.sign(torch.gather(q, 1, axis.unsqueeze(1))))
        hint = torch.zeros_like(p)
        ydir = axis == 1
        hint[:, 1] = (~ydir).float()
        hint[:, 2] = -ydir.float()
        t = torch.linalg.cross(hint, n)
        up = torch.linalg.cross(n, t)
        u = (p * t).sum(1) * uv_per_m
        v = -(p * up).sum(1) * uv_per_m
        scale = torch.full_like(u, uv_per_m)
    else:
        r = float(size[0])
        n = p / r
        t = torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0], device=p.device).expand_as(n), n)
        t = t / t.norm(dim=1, keepdim=True).clamp_min(1e-6)
        ru = max(1, round(2 * math.pi * r * uv_per_m))
        rv = max(1, round(math.pi * r * uv_per_m))
        u = (torch.atan2(n[:, 0], n[:, 2]) / (2 * math.pi) + 0.5) * ru
        v = torch.acos(n[:, 1].clamp(-1, 1)) / math.pi * rv
        scale = torch.full_like(u, ru / (2 * math.pi * r))
    b = torch.linalg.cross(n, t)
    return n, t, b, u, v, scale


def project(view: View, p: torch.Tensor, tan_x: float, tan_y: float, width: int, height: int,
            direction: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, col) pixel-centre coordinates of world points (or directions) in ``view``'s image."""
    v = (p if direction else p - view.pos) @ view.rot
    z = (-v[:, 2]).clamp_min(1e-6)
    col = (v[:, 0] / (z * tan_x) + 1.0) * 0.5 * width - 0.5
    row = (1.0 - v[:, 1] / (z * tan_y)) * 0.5 * height - 0.5
    return row, col


def cast(scene: Scene, bank: TextureBank, cur: View, prev: View, rows: tuple[int, int], width: int, height: int,
         tan_x: float, tan_y: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render capture rows ``rows`` of a ``width x height`` image: colour (3, n, W) linear HDR, view depth
    (n, W) (inf for sky) and motion (2, n, W) (y, x) in capture pixels."""
    dev = cur.pos.device
    r0, r1 = rows
    ys = torch.arange(r0, r1, device=dev, dtype=torch.float32)
    xs = torch.arange(width, device=dev, dtype=torch.float32)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    gy, gx = gy.reshape(-1), gx.reshape(-1)
    dv = torch.stack([((gx + 0.5) / width * 2 - 1) * tan_x, (1 - (gy + 0.5) / height * 2) * tan_y,
                      -torch.ones_like(gx)], dim=1)
    d = dv @ cur.rot.T
    o = cur.pos.expand_as(d)
    n = d.shape[0]
    best = torch.full((n,), math.inf, device=dev)
    hit = torch.full((n,), SKY, device=dev, dtype=torch.long)
    sizes = [torch.as_tensor(b.size, dtype=torch.float32, device=dev) for b in scene.bodies]
    for i, body in enumerate(scene.bodies):
        lo, ld = _local(cur, i, o, d)
        t = _intersect(body.kind, sizes[i], lo, ld)
        closer = t < best
        best = torch.where(closer, t, best)
        hit = torch.where(closer, torch.full_like(hit, i), hit)
    colour = torch.zeros(n, 3, device=dev)
    motion = torch.zeros(n, 2, device=dev)
    dn = d / d.norm(dim=1, keepdim=True)
    sun = torch.as_tensor(scene.sun_dir, dtype=torch.float32, device=dev)
    sun = sun / sun.norm()
    sky = hit == SKY
    if sky.any():
        s = dn[sky]
        up = s[:, 1:2].clamp(0, 1).sqrt()
        hz, zn = (torch.as_tensor(c, dtype=torch.float32, device=dev) for c in (scene.horizon, scene.zenith))
        glow = torch.as_tensor(scene.sun, dtype=torch.float32, device=dev) * 0.05 * \
            (s @ sun).clamp_min(0).pow(64).unsqueeze(1)
        ground = s[:, 1:2] < 0
        colour[sky] = torch.where(ground, hz * 0.3, hz + (zn - hz) * up) + glow
        pr, pc = project(prev, s, tan_x, tan_y, width, height, direction=True)
        motion[sky] = torch.stack([gy[sky] - pr, gx[sky] - pc], dim=1)
    surf = ~sky
    if surf.any():
        colour[surf], motion[surf] = _surfaces(scene, bank, cur, prev, sizes, hit[surf], best[surf], o[surf],
                                               d[surf], dn[surf], gy[surf], gx[surf], sun,
                                               (tan_x, tan_y, width, height))
    rows_n = r1 - r0
    return (colour.T.reshape(3, rows_n, width), best.reshape(rows_n, width),
            motion.T.reshape(2, rows_n, width))


def _surfaces(scene: Scene, bank: TextureBank, cur: View, prev: View, sizes: list[torch.Tensor], hit: torch.Tensor,
              t: torch.Tensor, o: torch.Tensor, d: torch.Tensor, dn: torch.Tensor, gy: torch.Tensor, gx: torch.Tensor,
              sun: torch.Tensor, image: tuple[float, float, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour (N, 3) and motion (N, 2) of rays that hit a body: one pass per body for the surface frame
    and textures, one shadow pass over all bodies, shading of all hits at once."""
    tan_x, tan_y, width, height = image
    n = t.shape[0]
    p = o + t.unsqueeze(1) * d
    ng, tg, bg = (torch.zeros(n, 3, device=p.device) for _ in range(3))
    tex = torch.zeros(n, 9, device=p.device)
    motion = torch.zeros(n, 2, device=p.device)
    view_dir = -dn
    for i, body in enumerate(scene.bodies):
        m = hit == i
        if not m.any():
            continue
        rot, pos = cur.bodies[i]
        pl = (p[m] - pos) @ rot
        nl, tl, bl, u, v, uv_scale = _surface(body.kind, sizes[i], body.uv_per_m, pl)
        ng[m], tg[m], bg[m] = nl @ rot.T, tl @ rot.T, bl @ rot.T
        cos = (ng[m] * view_dir[m]).sum(1).abs().clamp_min(LOD_MIN_COS)
        footprint = t[m] * d[m].norm(dim=1) * (2 * tan_y / height) / cos * uv_scale * bank.textures[body.texture].size
        tex[m] = bank.sample(body.texture, u, v, torch.log2(footprint.clamp_min(1e-6)))
        # motion: the same local point at the previous frame, seen by the previous camera
        prot, ppos = prev.bodies[i]
        pr, pc = project(prev, pl @ prot.T + ppos, tan_x, tan_y, width, height)
        motion[m] = torch.stack([gy[m] - pr, gx[m] - pc], dim=1)
    # one hard shadow ray per hit, from just above the surface
    so = p + ng * (1e-3 * (1 + t.unsqueeze(1)))
    sd = sun.expand_as(so)
    blocked = torch.zeros(n, dtype=torch.bool, device=p.device)
    for j, other in enumerate(scene.bodies):
        lo, ld = _local(cur, j, so, sd)
        blocked |= torch.isfinite(_intersect(other.kind, sizes[j], lo, ld))
    lit = ((ng @ sun > 0) & ~blocked).float()
    nts = tex[:, 3:6] * 2 - 1
    ns = nts[:, :1] * tg + nts[:, 1:2] * bg + nts[:, 2:3] * ng
    ns = ns / ns.norm(dim=1, keepdim=True).clamp_min(1e-6)
    colour = _shade(tex[:, :3], ns, tex[:, 6:7], tex[:, 7:8], tex[:, 8:9], view_dir, sun, scene, lit)
    return colour, motion


def _shade(albedo: torch.Tensor, n: torch.Tensor, rough: torch.Tensor, metal: torch.Tensor, ao: torch.Tensor,
           v: torch.Tensor, light: torch.Tensor, scene: Scene, lit: torch.Tensor) -> torch.Tensor:
    dev = albedo.device
    sun = torch.as_tensor(scene.sun, dtype=torch.float32, device=dev)
    amb = torch.as_tensor(scene.ambient, dtype=torch.float32, device=dev)
    h = v + light
    h = h / h.norm(dim=1, keepdim=True).clamp_min(1e-6)
    n_l = (n @ light).clamp_min(0).unsqueeze(1)
    n_v = (n * v).sum(1, keepdim=True).clamp_min(1e-4)
    n_h = (n * h).sum(1, keepdim=True).clamp_min(0)
    v_h = (v * h).sum(1, keepdim=True).clamp_min(0)
    r = rough.clamp(0.045, 1.0)
    a2 = (r * r) ** 2
    dist = a2 / (math.pi * (n_h * n_h * (a2 - 1) + 1) ** 2)
    k = (r + 1) ** 2 / 8
    geo = n_v / (n_v * (1 - k) + k) * n_l / (n_l * (1 - k) + k)
    f0 = 0.04 + (albedo - 0.04) * metal
    fres = f0 + (1 - f0) * (1 - v_h) ** 5
    spec = dist * geo * fres / (4 * n_v * n_l + 1e-4)
    diffuse = (1 - fres) * (1 - metal) * albedo / math.pi
    direct = (diffuse + spec) * n_l * sun * lit.unsqueeze(1)
    sky_light = amb * (0.6 + 0.4 * n[:, 1:2].clamp(-1, 1))
    ambient = sky_light * ao * (albedo * (1 - metal) + f0 * 0.5)
    return direct + ambient
