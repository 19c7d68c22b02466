"""Drive a real Vulkan driver's texture sampler through wgpu compute shaders (WGSL).

This is the measuring end of the sampler conformance suite: it uploads a
:class:`~ngsdk.asset.texture.TextureData`, runs ``textureSampleLevel`` (or ``textureLoad``) for every
coordinate in a compute shader, and reads the float32 results back. The same code runs on lavapipe
(CPU) and on a GPU driver; :func:`open_device` picks the adapter (``NGSDK_WGPU_ADAPTER`` substring
match, default: the first one).

Limits of the WebGPU API as wgpu exposes it: there is no clamp-to-border address mode with a border
colour (webgpu.h has no border colour field), so ``border`` is not measured here; 16-bit UNORM
textures need the native ``texture-format16bit-norm`` feature and linear filtering of 32-bit float
textures needs ``float32-filterable``, both requested when the adapter offers them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from ngsdk.asset.texture import TextureData

# DXGI name -> wgpu texture format
WGPU_FORMATS: dict[str, str] = {
    "R8G8B8A8_UNORM": "rgba8unorm",
    "R8G8B8A8_UNORM_SRGB": "rgba8unorm-srgb",
    "B8G8R8A8_UNORM": "bgra8unorm",
    "B8G8R8A8_UNORM_SRGB": "bgra8unorm-srgb",
    "R8G8B8A8_SNORM": "rgba8snorm",
    "R16G16B16A16_UNORM": "rgba16unorm",
    "R16G16B16A16_FLOAT": "rgba16float",
    "R32G32B32A32_FLOAT": "rgba32float",
    "R32G32_FLOAT": "rg32float",
    "R16G16_FLOAT": "rg16float",
    "R32_FLOAT": "r32float",
    "R8G8_UNORM": "rg8unorm",
    "R16_FLOAT": "r16float",
    "R8_UNORM": "r8unorm",
}
_ADDRESS = {"repeat": "repeat", "mirror": "mirror-repeat", "clamp": "clamp-to-edge"}
_WANTED_FEATURES = ("float32-filterable", "texture-format16bit-norm")
_WORKGROUP = 64
_MAX_GROUPS_X = 65535


class UnsupportedByDriver(ValueError):
    """The texture or sampler state cannot be expressed through wgpu on this adapter."""


@dataclass
class Device:
    """An opened wgpu device plus what the adapter says about itself."""

    device: object
    description: str
    features: frozenset


def open_device(adapter_hint: str | None = None) -> Device:
    """Open the first adapter whose description contains ``adapter_hint`` (or NGSDK_WGPU_ADAPTER)."""
    import wgpu

    hint = (adapter_hint or os.environ.get("NGSDK_WGPU_ADAPTER", "")).lower()
    adapters = wgpu.gpu.enumerate_adapters_sync()
    if not adapters:
        raise RuntimeError("wgpu found no adapter (is a Vulkan driver, e.g. mesa-vulkan-drivers, installed?)")

    def describe(a) -> str:
        info = a.info
        return f"{info.get('device', '')} / {info.get('description', '')} / {info.get('backend_type', '')}"

    chosen = next((a for a in adapters if hint in describe(a).lower()), None)
    if chosen is None:
        names = "; ".join(describe(a) for a in adapters)
        raise RuntimeError(f"no wgpu adapter matches {hint!r} (found: {names})")
    features = [f for f in _WANTED_FEATURES if f in chosen.features]
    device = chosen.request_device_sync(required_features=features)
    return Device(device, describe(chosen), frozenset(features))


def _memory_texels(tex: TextureData, level: np.ndarray) -> np.ndarray:
    if tex.format.order == "BGRA":
        level = level[..., [2, 1, 0, 3]]
    return np.ascontiguousarray(level)


class WgpuSampler:
    """Samples textures on one wgpu device; pipelines are cached per shader variant."""

    def __init__(self, dev: Device | None = None):
        self.dev = dev or open_device()
        self._pipelines: dict[tuple, tuple] = {}

    @property
    def description(self) -> str:
        return self.dev.description

    # -- resources ---------------------------------------------------------------------------------
    def _texture(self, tex: TextureData):
        import wgpu

        fmt = WGPU_FORMATS.get(tex.format.name)
        if fmt is None:
            raise UnsupportedByDriver(f"{tex.format.name} has no wgpu equivalent here")
        if fmt.endswith("16unorm") and "texture-format16bit-norm" not in self.dev.features:
            raise UnsupportedByDriver(f"{fmt}: the adapter lacks texture-format16bit-norm")
        d3 = tex.dimension == "3d"
        size = (tex.width, tex.height, tex.depth if d3 else tex.array_size)
        t = self.dev.device.create_texture(
            size=size, format=fmt, mip_level_count=tex.mip_count, dimension="3d" if d3 else "2d",
            usage=wgpu.TextureUsage.TEXTURE_BINDING | wgpu.TextureUsage.COPY_DST,
        )
        for m, level in enumerate(tex.mips):
            data = _memory_texels(tex, level)
            lead, h, w, _ = data.shape
            self.dev.device.queue.write_texture(
                {"texture": t, "mip_level": m, "origin": (0, 0, 0)}, data,
                {"offset": 0, "bytes_per_row": w * tex.format.bytes_per_texel, "rows_per_image": h},
                (w, h, lead),
            )
        view = t.create_view(dimension="3d" if d3 else "2d-array")
        return t, view

    def _pipeline(self, key: tuple, source: str, filterable: bool):
        if key in self._pipelines:
            return self._pipelines[key]
        import wgpu

        dev = self.dev.device
        sample_type = "float" if filterable else "unfilterable-float"
        view_dim = "3d" if key[1] == "3d" else "2d-array"
        layout = dev.create_bind_group_layout(entries=[
            {"binding": 0, "visibility": wgpu.ShaderStage.COMPUTE,
             "texture": {"sample_type": sample_type, "view_dimension": view_dim}},
            {"binding": 1, "visibility": wgpu.ShaderStage.COMPUTE,
             "sampler": {"type": "filtering" if filterable else "non-filtering"}},
            {"binding": 2, "visibility": wgpu.ShaderStage.COMPUTE, "buffer": {"type": "read-only-storage"}},
            {"binding": 3, "visibility": wgpu.ShaderStage.COMPUTE, "buffer": {"type": "read-only-storage"}},
            {"binding": 4, "visibility": wgpu.ShaderStage.COMPUTE, "buffer": {"type": "storage"}},
        ])
        module = dev.create_shader_module(code=source)
        pipeline = dev.create_compute_pipeline(
            layout=dev.create_pipeline_layout(bind_group_layouts=[layout]),
            compute={"module": module, "entry_point": "main"},
        )
        self._pipelines[key] = (layout, pipeline)
        return layout, pipeline

    # -- shaders ------------------------------------------------------------------------------------
    @staticmethod
    def _source(op: str, dim: str, layer: int) -> str:
        tex_type = "texture_3d<f32>" if dim == "3d" else "texture_2d_array<f32>"
        ncoord = 3 if dim == "3d" else 2
        if dim == "3d":
            coord = "vec3<f32>(coords[3u * i], coords[3u * i + 1u], coords[3u * i + 2u])"
            icoord = "vec3<i32>(bitcast<i32>(coords[3u * i]), bitcast<i32>(coords[3u * i + 1u]), " \
                     "bitcast<i32>(coords[3u * i + 2u]))"
        else:
            coord = "vec2<f32>(coords[2u * i], coords[2u * i + 1u])"
            icoord = "vec2<i32>(bitcast<i32>(coords[2u * i]), bitcast<i32>(coords[2u * i + 1u]))"
        lay = "" if dim == "3d" else f", {int(layer)}"
        if op == "sample":
            body = f"out[i] = textureSampleLevel(t, s, {coord}{lay}, lods[i]);"
        else:  # load: coords hold int32 bit patterns, lods hold the level as int32 bits
            body = f"out[i] = textureLoad(t, {icoord}{lay}, bitcast<i32>(lods[i]));"
        return f"""
@group(0) @binding(0) var t: {tex_type};
@group(0) @binding(1) var s: sampler;
@group(0) @binding(2) var<storage, read> coords: array<f32>;
@group(0) @binding(3) var<storage, read> lods: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size({_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {{
    let i = gid.x + gid.y * ng.x * {_WORKGROUP}u;
    if (i >= arrayLength(&lods)) {{ return; }}
    _ = s;
    {body}
}}
// coordinates per sample: {ncoord}
"""

    # -- running ------------------------------------------------------------------------------------
    def _run(self, tex: TextureData, op: str, coords: np.ndarray, lods: np.ndarray, layer: int,
             sampler_desc: dict, filterable: bool) -> np.ndarray:
        import wgpu

        dev = self.dev.device
        n = lods.shape[0]
        key = (op, tex.dimension, int(layer), filterable)
        layout, pipeline = self._pipeline(key, self._source(op, tex.dimension, layer), filterable)
        _, view = self._texture(tex)
        sampler = dev.create_sampler(**sampler_desc)
        usage = wgpu.BufferUsage.STORAGE
        b_coords = dev.create_buffer_with_data(data=np.ascontiguousarray(coords).tobytes(), usage=usage)
        b_lods = dev.create_buffer_with_data(data=np.ascontiguousarray(lods).tobytes(), usage=usage)
        b_out = dev.create_buffer(size=max(16, n * 16), usage=usage | wgpu.BufferUsage.COPY_SRC)
        group = dev.create_bind_group(layout=layout, entries=[
            {"binding": 0, "resource": view}, {"binding": 1, "resource": sampler},
            {"binding": 2, "resource": {"buffer": b_coords}}, {"binding": 3, "resource": {"buffer": b_lods}},
            {"binding": 4, "resource": {"buffer": b_out}},
        ])
        groups = -(-n // _WORKGROUP)
        gx = min(groups, _MAX_GROUPS_X)
        gy = -(-groups // gx)
        enc = dev.create_command_encoder()
        cp = enc.begin_compute_pass()
        cp.set_pipeline(pipeline)
        cp.set_bind_group(0, group)
        cp.dispatch_workgroups(gx, gy, 1)
        cp.end()
        dev.queue.submit([enc.finish()])
        raw = dev.queue.read_buffer(b_out)
        return np.frombuffer(raw, dtype=np.float32)[: n * 4].reshape(n, 4).copy()

    def sample(self, tex: TextureData, uv: np.ndarray, *, lod: np.ndarray | None = None, layer: int = 0,
               filter: str = "linear", address: str = "repeat") -> np.ndarray:
        """``textureSampleLevel`` at float32 ``uv`` (N x 2, or N x 3 for 3D); returns float32 N x 4.

        ``filter``: nearest (mipmap nearest), linear (mipmap nearest) or trilinear (mipmap linear).
        ``address``: repeat, mirror or clamp (clamp-to-edge), on every axis.
        """
        if address not in _ADDRESS:
            raise UnsupportedByDriver(f"address {address!r} cannot be measured through wgpu "
                                      f"(use {sorted(_ADDRESS)})")
        uv = np.ascontiguousarray(uv, dtype=np.float32)
        n = uv.shape[0]
        lods = np.zeros(n, np.float32) if lod is None else np.ascontiguousarray(lod, np.float32).reshape(n)
        mag = "nearest" if filter == "nearest" else "linear"
        mip = "linear" if filter == "trilinear" else "nearest"
        mode = _ADDRESS[address]
        filterable = not (tex.format.kind == "float" and tex.format.dtype == "<f4"
                          and "float32-filterable" not in self.dev.features)
        if not filterable and (mag == "linear" or mip == "linear"):
            raise UnsupportedByDriver(f"{tex.format.name}: linear filtering needs float32-filterable")
        desc = dict(address_mode_u=mode, address_mode_v=mode, address_mode_w=mode, mag_filter=mag,
                    min_filter=mag, mipmap_filter=mip, lod_min_clamp=0.0, lod_max_clamp=32.0)
        return self._run(tex, "sample", uv.reshape(-1), lods, layer, desc, filterable)

    def load(self, tex: TextureData, xy: np.ndarray, *, level: int = 0, layer: int = 0) -> np.ndarray:
        """``textureLoad`` at integer texel coordinates (N x 2, or N x 3 for 3D): the driver's decode."""
        xy = np.ascontiguousarray(xy, dtype=np.int32)
        n = xy.shape[0]
        levels = np.full(n, level, np.int32).view(np.float32)
        filterable = not (tex.format.kind == "float" and tex.format.dtype == "<f4"
                          and "float32-filterable" not in self.dev.features)
        return self._run(tex, "load", xy.reshape(-1).view(np.float32), levels, layer, {}, filterable)


def profile_for(description: str) -> str | None:
    """The runtime_ref sampler profile that claims bit-exactness for an adapter, or None.

    ``NGSDK_SAMPLER_PROFILE`` overrides. llvmpipe -> ``lavapipe`` (Mesa < 24) or ``lavapipe-mesa25``;
    NVIDIA -> ``nvidia``.
    """
    forced = os.environ.get("NGSDK_SAMPLER_PROFILE")
    if forced:
        return forced
    text = description.lower()
    if "llvmpipe" in text:
        m = re.search(r"mesa (\d+)\.", text)
        return "lavapipe-mesa25" if m and int(m.group(1)) >= 24 else "lavapipe"
    if "nvidia" in text:
        return "nvidia"
    return None
