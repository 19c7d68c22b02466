"""The shader source: the WGSL form is generated from the .ush, within the translator's subset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_wgsl_is_the_translation_of_the_ush():
    res = subprocess.run([sys.executable, "tools/shaders/ush_to_wgsl.py", "--check"], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("line", ["int a = b ? 1 : 2;", "int a = b >> 2;", "void f(inout int a) {", "#if X"])
def test_translator_refuses_constructs_outside_its_subset(line):
    from tools.shaders.ush_to_wgsl import TranslationError, translate

    with pytest.raises(TranslationError):
        translate(line + "\n")


def test_translator_maps_declarations_casts_and_functions():
    from tools.shaders.ush_to_wgsl import translate

    src = ("int NTD_F(int a, float b)\n{\n    int act[NTD_MAX_WIDTH];\n    float4 t = float4(1.0f, 0.0, 0.0, 0.0);\n"
           "    for (int k = 0; k < a; k++) { act[k] = int(floor(b * 2.0)); }\n    return act[0];\n}\n")
    out = translate(src)
    assert "fn NTD_F(a: i32, b: f32) -> i32" in out
    assert "var act: array<i32, NTD_MAX_WIDTH>;" in out
    assert "var t: vec4<f32> = vec4<f32>(1.0, 0.0, 0.0, 0.0);" in out
    assert "for (var k: i32 = 0; k < a; k++)" in out and "i32(floor(b * 2.0))" in out
