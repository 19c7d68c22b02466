"""Read a .vgf file with the Arm ML SDK's VGF library (``vgfpy``): header, modules, resources, constants.

Shared by the writer (ngsdk.exporters.graph.vgf_export records the graph's tensors in its sidecar) and the
reader (ngsdk.runtime_ref.vgf runs the graph), as the DXGI table is: neither layer imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.toolchain import require_module

# The VkFormat values VGF tensors use (from the Vulkan registry), with their NumPy element types.
VK_FORMATS: dict[int, tuple[str, str]] = {
    13: ("VK_FORMAT_R8_UINT", "uint8"),
    14: ("VK_FORMAT_R8_SINT", "int8"),
    74: ("VK_FORMAT_R16_UINT", "uint16"),
    75: ("VK_FORMAT_R16_SINT", "int16"),
    76: ("VK_FORMAT_R16_SFLOAT", "float16"),
    98: ("VK_FORMAT_R32_UINT", "uint32"),
    99: ("VK_FORMAT_R32_SINT", "int32"),
    100: ("VK_FORMAT_R32_SFLOAT", "float32"),
    110: ("VK_FORMAT_R64_UINT", "uint64"),
    111: ("VK_FORMAT_R64_SINT", "int64"),
    1000460000: ("VK_FORMAT_R8_BOOL_ARM", "bool"),
}


@dataclass(frozen=True)
class VgfTensor:
    """A graph input or output: its name in the VGF, descriptor binding, resource index, shape and format."""

    name: str
    binding: int
    resource: int
    shape: tuple[int, ...]
    vk_format: str
    dtype: str


@dataclass(frozen=True)
class VgfModule:
    index: int
    name: str
    kind: str  # "graph" (a SPIR-V TOSA graph) or "compute" (a shader)
    entry_point: str
    code_bytes: int


@dataclass(frozen=True)
class VgfConstant:
    index: int
    resource: int
    shape: tuple[int, ...]
    vk_format: str
    dtype: str
    nbytes: int
    sparse: bool


@dataclass(frozen=True)
class VgfInfo:
    path: Path
    version: str
    modules: tuple[VgfModule, ...]
    segments: tuple[dict[str, Any], ...]
    inputs: tuple[VgfTensor, ...]
    outputs: tuple[VgfTensor, ...]
    constants: tuple[VgfConstant, ...]
    resource_categories: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        def t(x: VgfTensor) -> dict[str, Any]:
            return {
                "name": x.name,
                "binding": x.binding,
                "shape": list(x.shape),
                "dtype": x.dtype,
                "vk_format": x.vk_format,
            }

        return {
            "version": self.version,
            "modules": [
                {"name": m.name, "kind": m.kind, "entry_point": m.entry_point, "code_bytes": m.code_bytes}
                for m in self.modules
            ],
            "segments": list(self.segments),
            "inputs": [t(x) for x in self.inputs],
            "outputs": [t(x) for x in self.outputs],
            "constants": len(self.constants),
            "constant_bytes": sum(c.nbytes for c in self.constants),
        }


def _format(path: Path, code: int) -> tuple[str, str]:
    if code not in VK_FORMATS:
        raise AssetError(
            path, f"VGF resource uses VkFormat {code}, which runtime_ref does not map to a dtype"
        )
    return VK_FORMATS[code]


def read_vgf(path: str | Path, *, with_constants: bool = False) -> tuple[VgfInfo, list[np.ndarray]] | VgfInfo:
    """Decode ``path``. With ``with_constants`` also return every constant as an array of its declared
    dtype and shape."""
    vgfpy = require_module("vgfpy", "ai-ml-sdk-vgf-library==0.11.0")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AssetError(path, f"cannot read VGF file: {e}") from e
    buf = memoryview(data)
    if len(data) < vgfpy.HeaderSize():
        raise AssetError(path, f"{len(data)} bytes is too short for a VGF header")
    header = vgfpy.CreateHeaderDecoder(buf, vgfpy.HeaderSize(), len(data))
    if not header.IsValid():
        raise AssetError(path, "not a VGF file (bad magic or header)")
    if not header.CheckVersion():
        raise AssetError(
            path, f"VGF version {header.GetMajor()}.{header.GetMinor()} is not supported by vgfpy"
        )

    def section(off: int, size: int) -> memoryview:
        if off + size > len(data):
            raise AssetError(
                path, f"VGF section at {off}+{size} runs past the end of the file ({len(data)} bytes)"
            )
        return buf[off : off + size]

    mt_size, rt_size = header.GetModuleTableSize(), header.GetModelResourceTableSize()
    st_size, ct_size = header.GetModelSequenceTableSize(), header.GetConstantsSize()
    mt = vgfpy.CreateModuleTableDecoder(section(header.GetModuleTableOffset(), mt_size), mt_size)
    rt = vgfpy.CreateModelResourceTableDecoder(
        section(header.GetModelResourceTableOffset(), rt_size), rt_size
    )
    st = vgfpy.CreateModelSequenceTableDecoder(
        section(header.GetModelSequenceTableOffset(), st_size), st_size
    )
    ct = vgfpy.CreateConstantDecoder(section(header.GetConstantsOffset(), ct_size), ct_size)
    if mt is None or rt is None or st is None or ct is None:
        raise AssetError(path, "a VGF section failed to decode")

    modules = []
    for i in range(mt.size()):
        code = mt.getSPIRVModuleCode(i) if mt.hasSPIRVCode(i) else None
        kind = "graph" if mt.getModuleType(i) == vgfpy.ModuleType.Graph else "compute"
        modules.append(
            VgfModule(
                i, mt.getModuleName(i), kind, mt.getModuleEntryPoint(i), 0 if code is None else len(code)
            )
        )
    categories = tuple(str(rt.getCategory(i)).split(".")[-1].lower() for i in range(rt.size()))

    def shape_of(r: int) -> tuple[int, ...]:
        return tuple(int(d) for d in np.asarray(rt.getTensorShape(r)).tolist())

    def tensors(names_h: Any, slots_h: Any) -> tuple[VgfTensor, ...]:
        out = []
        for i in range(st.getBindingsSize(slots_h)):
            r = st.getBindingSlotMrtIndex(slots_h, i)
            fmt, dt = _format(path, rt.getVkFormat(r))
            out.append(
                VgfTensor(
                    st.getName(names_h, i), st.getBindingSlotBinding(slots_h, i), r, shape_of(r), fmt, dt
                )
            )
        return tuple(out)

    inputs = tensors(st.getModelSequenceInputNamesHandle(), st.getModelSequenceInputBindingSlotsHandle())
    outputs = tensors(st.getModelSequenceOutputNamesHandle(), st.getModelSequenceOutputBindingSlotsHandle())
    segments = tuple(
        {
            "name": st.getSegmentName(s),
            "kind": "graph" if st.getSegmentType(s) == vgfpy.ModuleType.Graph else "compute",
            "module": st.getSegmentModuleIndex(s),
        }
        for s in range(st.modelSequenceTableSize())
    )
    constants, arrays = [], []
    for i in range(ct.size()):
        r = ct.getConstantMrtIndex(i)
        fmt, dt = _format(path, rt.getVkFormat(r))
        raw = np.asarray(ct.getConstant(i))
        shape = shape_of(r)
        constants.append(VgfConstant(i, r, shape, fmt, dt, int(raw.nbytes), bool(ct.isSparseConstant(i))))
        if with_constants:
            arr = np.frombuffer(raw.tobytes(), dtype=dt)
            if arr.size != int(np.prod(shape)):
                raise AssetError(path, f"VGF constant {i}: {arr.size} {dt} values for shape {shape}")
            arrays.append(arr.reshape(shape))
    info = VgfInfo(
        path,
        f"{header.GetMajor()}.{header.GetMinor()}.{header.GetPatch()}",
        tuple(modules),
        segments,
        inputs,
        outputs,
        tuple(constants),
        categories,
    )
    if not modules or not segments:
        raise AssetError(path, "VGF has no modules or no segments")
    return (info, arrays) if with_constants else info
