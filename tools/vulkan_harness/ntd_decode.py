"""Run the shared shader decode (engine_plugins/shaders) of a neural texture on a Vulkan driver via wgpu.

Two forms of the one source run here: the WGSL that tools/shaders/ush_to_wgsl.py generates from
NeuralTextureDecode.ush, and the .ush itself compiled from HLSL to SPIR-V by glslangValidator (when it
is installed). Both take the same bindings: four latent grids as RGBA8 UNORM 2D arrays (what an engine
imports), one sampler, the parameter blob (``ngsdk.runtime_ref.neural_texture_int.param_blob``: the decoder,
the sizes and every mip's taps and LOD input), a job description (path, mip, sample count) and per-sample
coordinates; they return the decoded UNORM8 bytes.

The device comes from :func:`tools.vulkan_harness.wgpu_sampler.open_device` (``NGSDK_WGPU_ADAPTER``
picks the adapter).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ngsdk.asset.neural_texture import NeuralTextureAsset
from ngsdk.runtime_ref.neural_texture_hw import grid_texture, mip_coordinates
from ngsdk.runtime_ref.neural_texture_int import param_blob
from tools.vulkan_harness.wgpu_sampler import Device, open_device

REPO = Path(__file__).resolve().parents[2]
SHADERS = REPO / "engine_plugins" / "shaders"
WGSL_CORE = SHADERS / "NeuralTextureDecode.wgsl"
HLSL_KERNEL = Path(__file__).with_name("ntd_kernel.hlsl")
MAX_GRIDS = 4
HLSL_MAX_SLICES = 3  # per grid: one Texture2D view per slice in ntd_kernel.hlsl (bindings 9-20)
_WORKGROUP = 64
_MAX_GROUPS_X = 65535
PATH_EXACT_MIP, PATH_EXACT_UV, PATH_HW_UV, PATH_HW_MIP = 0, 1, 2, 3

WGSL_KERNEL = """
@group(0) @binding(0) var grid0: texture_2d_array<f32>;
@group(0) @binding(1) var grid1: texture_2d_array<f32>;
@group(0) @binding(2) var grid2: texture_2d_array<f32>;
@group(0) @binding(3) var grid3: texture_2d_array<f32>;
@group(0) @binding(4) var samp: sampler;
@group(0) @binding(5) var<storage, read> blob: array<i32>;
@group(0) @binding(6) var<storage, read> job: array<i32>;
@group(0) @binding(7) var<storage, read> coords: array<f32>;
@group(0) @binding(8) var<storage, read_write> outb: array<i32>;

fn NTD_Param(i: i32) -> i32 { return blob[i]; }
fn NTD_LoadGrid(g: i32, s: i32, x: i32, y: i32, level: i32) -> vec4<f32> {
    if (g == 0) { return textureLoad(grid0, vec2<i32>(x, y), s, level); }
    if (g == 1) { return textureLoad(grid1, vec2<i32>(x, y), s, level); }
    if (g == 2) { return textureLoad(grid2, vec2<i32>(x, y), s, level); }
    return textureLoad(grid3, vec2<i32>(x, y), s, level);
}
fn NTD_SampleGrid(g: i32, s: i32, u: f32, v: f32, lod: f32) -> vec4<f32> {
    if (g == 0) { return textureSampleLevel(grid0, samp, vec2<f32>(u, v), s, lod); }
    if (g == 1) { return textureSampleLevel(grid1, samp, vec2<f32>(u, v), s, lod); }
    if (g == 2) { return textureSampleLevel(grid2, samp, vec2<f32>(u, v), s, lod); }
    return textureSampleLevel(grid3, samp, vec2<f32>(u, v), s, lod);
}
fn NTD_Store(pixel: i32, c: i32, value: i32) { outb[pixel * job[4] + c] = value; }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = i32(gid.x) + i32(gid.y) * job[11] * 64;
    if (i >= job[3]) { return; }
    let path = job[0];
    let mipW = job[1];
    if (path == 0 || path == 3) {
        NTD_Decode(i, path, i % mipW, i / mipW, job[5], bitcast<f32>(job[9]), bitcast<f32>(job[10]), 0.0);
    } else {
        NTD_Decode(i, path, 0, 0, job[5], coords[3 * i], coords[3 * i + 1], coords[3 * i + 2]);
    }
}
"""


def glslang() -> str | None:
    """Path of glslangValidator (Debian package glslang-tools), or None."""
    return shutil.which("glslangValidator")


def compile_hlsl() -> bytes:
    """SPIR-V of ntd_kernel.hlsl + NeuralTextureDecode.ush (HLSL front end of glslang)."""
    exe = glslang()
    if exe is None:
        raise RuntimeError("glslangValidator not found (apt-get install glslang-tools)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ntd.spv"
        res = subprocess.run([exe, "-D", "-V", "-S", "comp", "-e", "main", "-I" + str(SHADERS), "-o", str(out),
                              str(HLSL_KERNEL)], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"glslangValidator failed on {HLSL_KERNEL}:\n{res.stdout}{res.stderr}")
        return out.read_bytes()


class ShaderDecoder:
    """Decodes neural textures with the shared shader on one wgpu device.

    ``source``: ``wgsl`` (the generated WGSL) or ``hlsl`` (the .ush compiled to SPIR-V by glslang).
    """

    def __init__(self, dev: Device | None = None, source: str = "wgsl"):
        if source not in ("wgsl", "hlsl"):
            raise ValueError(f"source must be wgsl or hlsl, got {source!r}")
        self.dev = dev or open_device()
        self.source = source
        self._pipeline = None

    @property
    def description(self) -> str:
        return f"{self.dev.description} ({self.source})"

    def _build(self):
        if self._pipeline is not None:
            return self._pipeline
        import wgpu

        d = self.dev.device
        code = WGSL_CORE.read_text(encoding="utf-8") + WGSL_KERNEL if self.source == "wgsl" else compile_hlsl()
        module = d.create_shader_module(code=code)
        tex = {"sample_type": "float", "view_dimension": "2d-array"}
        comp = wgpu.ShaderStage.COMPUTE
        entries = [{"binding": i, "visibility": comp, "texture": tex} for i in range(MAX_GRIDS)]
        entries.append({"binding": 4, "visibility": comp, "sampler": {"type": "filtering"}})
        for b in (5, 6, 7):
            entries.append({"binding": b, "visibility": comp, "buffer": {"type": "read-only-storage"}})
        entries.append({"binding": 8, "visibility": comp, "buffer": {"type": "storage"}})
        if self.source == "hlsl":
            flat = {"sample_type": "float", "view_dimension": "2d"}
            entries += [{"binding": 9 + k, "visibility": comp, "texture": flat}
                        for k in range(MAX_GRIDS * HLSL_MAX_SLICES)]
        layout = d.create_bind_group_layout(entries=entries)
        pipeline = d.create_compute_pipeline(layout=d.create_pipeline_layout(bind_group_layouts=[layout]),
                                             compute={"module": module, "entry_point": "main"})
        self._pipeline = (layout, pipeline)
        return self._pipeline

    def _grid_texture(self, grid):
        import wgpu

        data = grid_texture(grid)
        t = self.dev.device.create_texture(
            size=(data.width, data.height, data.array_size), format="rgba8unorm", mip_level_count=data.mip_count,
            dimension="2d", usage=wgpu.TextureUsage.TEXTURE_BINDING | wgpu.TextureUsage.COPY_DST)
        for m, level in enumerate(data.mips):
            lead, h, w, _ = level.shape
            self.dev.device.queue.write_texture({"texture": t, "mip_level": m, "origin": (0, 0, 0)},
                                                np.ascontiguousarray(level),
                                                {"offset": 0, "bytes_per_row": 4 * w, "rows_per_image": h},
                                                (w, h, lead))
        return t

    def _dummy_texture(self):
        import wgpu

        return self.dev.device.create_texture(size=(1, 1, 1), format="rgba8unorm", dimension="2d",
                                              usage=wgpu.TextureUsage.TEXTURE_BINDING | wgpu.TextureUsage.COPY_DST)

    def run(self, asset: NeuralTextureAsset, path: int, mip: int, count: int, coords: np.ndarray | None = None,
            filter: str = "linear") -> np.ndarray:
        """Dispatch ``count`` decodes on ``path``; returns uint8 (count, C)."""
        import wgpu

        if len(asset.grids) > MAX_GRIDS:
            raise ValueError(f"the harness binds at most {MAX_GRIDS} grids")
        d = self.dev.device
        layout, pipeline = self._build()
        channels = asset.decoder.outputs
        w, h = asset.mip_size(mip)
        groups = -(-count // _WORKGROUP)
        gx = min(groups, _MAX_GROUPS_X)
        gy = -(-groups // gx)
        # job: path, mip width and height, samples, channels, mip, then the texel-centre steps (float bits)
        # and the dispatch width; the blob describes the texture itself
        job = np.zeros(16, dtype=np.int32)
        job[:6] = [path, w, h, count, channels, mip]
        job[9:11] = np.array([np.float32(0.5) / np.float32(w), np.float32(0.5) / np.float32(h)],
                             dtype=np.float32).view(np.int32)
        job[11] = gx
        textures = [self._grid_texture(g) for g in asset.grids]
        textures += [self._dummy_texture() for _ in range(MAX_GRIDS - len(textures))]
        views = [t.create_view(dimension="2d-array") for t in textures]
        mode = "repeat" if asset.sampler.address == "wrap" else "clamp-to-edge"
        sampler = d.create_sampler(address_mode_u=mode, address_mode_v=mode, address_mode_w=mode,
                                   mag_filter="nearest" if filter == "nearest" else "linear",
                                   min_filter="nearest" if filter == "nearest" else "linear",
                                   mipmap_filter="linear" if filter == "trilinear" else "nearest",
                                   lod_min_clamp=0.0, lod_max_clamp=32.0)
        cbuf = np.zeros(3, np.float32) if coords is None else np.ascontiguousarray(coords, dtype=np.float32)
        usage = wgpu.BufferUsage.STORAGE
        bufs = [d.create_buffer_with_data(data=param_blob(asset).tobytes(), usage=usage),
                d.create_buffer_with_data(data=job.tobytes(), usage=usage),
                d.create_buffer_with_data(data=cbuf.tobytes(), usage=usage)]
        out = d.create_buffer(size=max(16, 4 * count * channels), usage=usage | wgpu.BufferUsage.COPY_SRC)
        entries = [{"binding": i, "resource": v} for i, v in enumerate(views)]
        entries.append({"binding": 4, "resource": sampler})
        entries += [{"binding": 5 + i, "resource": {"buffer": b}} for i, b in enumerate(bufs)]
        entries.append({"binding": 8, "resource": {"buffer": out}})
        if self.source == "hlsl":
            for g, t in enumerate(textures):
                slices = asset.grids[g].array_size if g < len(asset.grids) else 0
                if slices > HLSL_MAX_SLICES:
                    raise ValueError(f"the HLSL harness binds at most {HLSL_MAX_SLICES} slices per grid")
                for s in range(HLSL_MAX_SLICES):
                    view = (t.create_view(dimension="2d", base_array_layer=s, array_layer_count=1) if s < slices
                            else self._dummy_texture().create_view(dimension="2d"))
                    entries.append({"binding": 9 + HLSL_MAX_SLICES * g + s, "resource": view})
        group = d.create_bind_group(layout=layout, entries=entries)
        enc = d.create_command_encoder()
        cp = enc.begin_compute_pass()
        cp.set_pipeline(pipeline)
        cp.set_bind_group(0, group)
        cp.dispatch_workgroups(gx, gy, 1)
        cp.end()
        d.queue.submit([enc.finish()])
        raw = np.frombuffer(d.queue.read_buffer(out), dtype=np.int32)[: count * channels]
        if raw.size and (raw.min() < 0 or raw.max() > 255):
            raise RuntimeError("shader returned values outside [0, 255]")
        return raw.astype(np.uint8).reshape(count, channels)

    # -- the decode entry points, mirroring runtime_ref ------------------------------------------------
    def decode_mip(self, asset: NeuralTextureAsset, mip: int = 0) -> np.ndarray:
        """Whole mip at texel centres in the asset's mode -> uint8 (H, W, C)."""
        w, h = asset.mip_size(mip)
        path = PATH_HW_MIP if asset.decode_mode == "hardware" else PATH_EXACT_MIP
        return self.run(asset, path, mip, w * h).reshape(h, w, -1)

    def decode_uv(self, asset: NeuralTextureAsset, uv: np.ndarray, *, mip: int = 0, lod=0.0,
                  filter: str = "linear") -> np.ndarray:
        """At coordinates ``uv`` (N, 2): exact mode at ``mip``; hardware mode with ``lod`` and ``filter``."""
        uv = np.asarray(uv, dtype=np.float32)
        n = uv.shape[0]
        coords = np.zeros((n, 3), np.float32)
        coords[:, :2] = uv
        coords[:, 2] = np.broadcast_to(np.asarray(lod, np.float32), (n,))
        path = PATH_HW_UV if asset.decode_mode == "hardware" else PATH_EXACT_UV
        return self.run(asset, path, mip, n, coords.reshape(-1), filter)


__all__ = ["ShaderDecoder", "compile_hlsl", "glslang", "mip_coordinates"]
