"""Random scenes for the synthesizer (numpy): a textured ground, a picture backdrop, boxes and spheres
that move and spin, a sun, ambient light and a camera on an orbit; everything a function of time.

World: right-handed, +y up; the camera looks down its -z axis. Lengths in metres, time in frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """3x3 rotation by ``angle`` radians about unit ``axis`` (Rodrigues)."""
    x, y, z = axis / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + s * k + (1 - c) * (k @ k)


@dataclass
class Body:
    """A quad (local y = 0, |x| <= size[0], |z| <= size[2]), box (half extents ``size``) or sphere
    (radius ``size[0]``) with its material and motion; ``uv_per_m`` 0 stretches one copy of the texture
    over a quad (a picture backdrop)."""

    kind: str
    texture: int
    size: np.ndarray
    uv_per_m: float
    position: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    wobble: np.ndarray = field(default_factory=lambda: np.zeros(3))
    wobble_freq: float = 0.0
    axis: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))
    angle0: float = 0.0
    spin: float = 0.0
    """Radians per frame."""
    base: np.ndarray = field(default_factory=lambda: np.eye(3))
    """Fixed orientation applied before the spin (stands the backdrop quad up)."""

    def pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(rotation 3x3, translation 3) at time ``t`` (local -> world)."""
        r = rotation(self.axis, self.angle0 + self.spin * t) @ self.base
        p = self.position + self.velocity * t + self.wobble * math.sin(self.wobble_freq * t)
        return r, p


@dataclass
class Camera:
    target: np.ndarray
    radius: float
    height: float
    angle0: float
    speed: float
    """Orbit radians per frame."""
    bob: float
    fov_y: float
    near: float = 0.1
    far: float = 100.0

    def pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(camera-to-world rotation with columns right, up, back; position) at time ``t``."""
        a = self.angle0 + self.speed * t
        pos = self.target + np.array([self.radius * math.cos(a), self.height + self.bob * math.sin(0.05 * t),
                                      self.radius * math.sin(a)])
        fwd = self.target - pos
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        return np.stack([right, up, -fwd], axis=1), pos


@dataclass
class Scene:
    bodies: list[Body]
    camera: Camera
    sun_dir: np.ndarray
    sun: np.ndarray
    """Sun irradiance (RGB, linear)."""
    ambient: np.ndarray
    horizon: np.ndarray
    zenith: np.ndarray


def random_scene(rng: np.random.Generator, materials: int, images: int) -> Scene:
    """A scene whose textures index a bank of ``materials`` PBR sets followed by ``images`` pictures."""
    def mat() -> int:
        return int(rng.integers(materials))

    bodies = [Body("quad", mat(), np.array([15.0, 0.0, 15.0]), float(rng.uniform(0.3, 0.7)), np.zeros(3))]
    if images:
        w = float(rng.uniform(12, 18))
        picture = materials + int(rng.integers(images))
        centre = np.array([float(rng.uniform(-2, 2)), w / 3, -float(rng.uniform(9, 13))])
        bodies.append(Body("quad", picture, np.array([w / 2, 0.0, w / 3]), 0.0, centre,
                           base=rotation(np.array([1.0, 0.0, 0.0]), math.pi / 2)))
    for _ in range(int(rng.integers(3, 7))):
        kind = "box" if rng.random() < 0.55 else "sphere"
        size = rng.uniform(0.3, 1.0, 3) if kind == "box" else np.full(3, rng.uniform(0.3, 0.9))
        ground = size[1] if kind == "box" else size[0]
        pos = np.array([rng.uniform(-4, 4), ground + rng.uniform(0.0, 0.8), rng.uniform(-4, 3)])
        moving = rng.random() < 0.6
        bodies.append(Body(
            kind, mat(), size, float(rng.uniform(0.5, 1.5)), pos,
            velocity=np.array([rng.uniform(-0.06, 0.06), 0.0, rng.uniform(-0.06, 0.06)]) if moving else np.zeros(3),
            wobble=np.array([0.0, rng.uniform(0.0, 0.3), 0.0]) if moving else np.zeros(3),
            wobble_freq=float(rng.uniform(0.05, 0.2)),
            axis=rng.normal(size=3) if moving else np.array([0.0, 1.0, 0.0]),
            angle0=float(rng.uniform(0, 2 * math.pi)),
            spin=float(rng.uniform(-0.06, 0.06)) if moving else 0.0))
    cam = Camera(target=np.array([rng.uniform(-1, 1), rng.uniform(0.3, 1.2), rng.uniform(-2, 0)]),
                 radius=float(rng.uniform(5, 9)), height=float(rng.uniform(0.8, 3.0)),
                 angle0=math.radians(float(rng.uniform(60, 120))),
                 speed=math.radians(float(rng.uniform(0.15, 0.8))) * (1 if rng.random() < 0.5 else -1),
                 bob=float(rng.uniform(0.0, 0.3)), fov_y=math.radians(float(rng.uniform(45, 70))))
    elev = math.radians(float(rng.uniform(25, 70)))
    azim = float(rng.uniform(0, 2 * math.pi))
    sun_dir = np.array([math.cos(elev) * math.cos(azim), math.sin(elev), math.cos(elev) * math.sin(azim)])
    warm = rng.uniform(0.85, 1.0, 3) * np.array([1.0, 0.95, 0.85])
    sky = np.array([0.55, 0.7, 1.0]) * rng.uniform(0.8, 1.2)
    return Scene(bodies, cam, sun_dir, warm * float(rng.uniform(0.8, 1.6)), sky * float(rng.uniform(0.03, 0.08)),
                 np.array([0.16, 0.17, 0.19]) * rng.uniform(0.7, 1.3), sky * float(rng.uniform(0.05, 0.1)))
