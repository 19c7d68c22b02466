"""The super-sampling kind's share of the CLI: its ``ngsdk inspect`` lines."""

from __future__ import annotations

from typing import Any


def describe(manifest: dict[str, Any]) -> list[str]:
    """Network, int8 quantization, pipeline constants, export size and reference clip."""
    net, pipe, size, clip = manifest["network"], manifest["pipeline"], manifest["export_size"], \
        manifest["reference_clip"]
    lines = [f"network      {net['architecture']}, {net.get('parameters', '?')} parameters, "
             f"{len(net['layers'])} convs ({net['weights']['file']})"]
    if "int8" in net:
        q = net["int8"]
        lines.append(f"int8         {q.get('arithmetic', '?')}, input scale {q['input']['scale']:.6g} zp "
                     f"{q['input']['zero_point']}, outputs 1/254 zp -127 ({q['file']})")
    else:
        lines.append("int8         none (trained without QAT)")
    dm8 = pipe.get("dm_scale_int8")
    lines.append(f"pipeline     x{pipe['scale']}, exposure {pipe.get('exposure')}, dm_scale {pipe['dm_scale']:.4f}"
                 + (f" (int8 {dm8:.4f})" if dm8 is not None else ""))
    lines.append(f"exports at   {size['width']}x{size['height']} input (NHWC for VGF)")
    lines.append(f"clip         {clip['frames']} frames at {'x'.join(map(str, clip.get('input_size', [])))} input "
                 f"({clip['file']})")
    return lines
