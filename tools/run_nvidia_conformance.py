#!/usr/bin/env python3
"""Run the Vulkan conformance suite on this machine's GPU driver and write docs/conformance.md.

The suite is the one CI runs on lavapipe (``pytest -m conformance``): the sampler comparisons of
tests/conformance/test_sampler_vulkan.py and the shader decode of trained bundles of
tests/conformance/test_decode_lavapipe.py, each comparison appended as a JSON line to a report. This
tool sets the environment up, runs the suite, and renders the report as a section of
docs/conformance.md (one section per driver; other sections are kept).

The GPU machine has the NVIDIA driver but no Vulkan loader and no package registry. On a machine with
a registry, collect what it needs once:

    python tools/run_nvidia_conformance.py --prepare build/gpu_bundle      # .debs + wheels (py3.12)

carry ``build/gpu_bundle`` over, then on the GPU machine:

    python3 tools/run_nvidia_conformance.py --bundle build/gpu_bundle

``--bundle`` unpacks the .deb files (libvulkan1) into build/vulkan_root, installs the wheels into
build/pydeps (no network), points the loader at the NVIDIA ICD (``--icd`` to choose another) and runs
the suite. With neither option it runs on whatever Vulkan the machine has (lavapipe here). Output:
a summary per driver and profile on stdout, the JSON lines in build/conformance/<driver>.jsonl, the
section in docs/conformance.md (``--no-docs`` to skip). The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "conformance.md"
SUITE = ["tests/conformance/test_sampler_vulkan.py", "tests/conformance/test_decode_lavapipe.py"]
# the loader, and the GL/EGL dispatch libraries (+ X11 client libraries) the NVIDIA ICD library links to
DEBS = ["libvulkan1", "libglvnd0", "libegl1", "libgl1", "libglx0", "libx11-6", "libxext6", "libxcb1", "libxau6",
        "libxdmcp6", "libbsd0", "libmd0"]
WHEELS = ["wgpu>=0.19", "jsonschema", "click"]
ICD_PLACES = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"]


def say(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------ prepare

def prepare(folder: Path, python_version: str) -> None:
    """Download the loader .debs (apt-get download) and the wheels for ``python_version`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for deb in DEBS:
        say(f"apt-get download {deb}")
        subprocess.run(["apt-get", "download", deb], cwd=folder, check=True)
    wheels = folder / "wheels"
    cmd = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", python_version,
           "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64", "-d", str(wheels), *WHEELS]
    say(" ".join(cmd))
    subprocess.run(cmd, check=True)
    say(f"ready: {folder} ({sum(f.stat().st_size for f in folder.rglob('*') if f.is_file()) >> 20} MiB)")


# ------------------------------------------------------------------------------------------ environment

def _ar_members(data: bytes):
    """Members of a Unix ar archive (the .deb container): (name, bytes)."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        head = data[pos:pos + 60]
        name = head[:16].decode().strip().rstrip("/")
        size = int(head[48:58].decode().strip())
        yield name, data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)


def unpack_deb(deb: Path, root: Path) -> None:
    """Extract a .deb's files under ``root`` (dpkg-deb -x, or plain Python for xz/gz payloads)."""
    if shutil.which("dpkg-deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        return
    for name, payload in _ar_members(deb.read_bytes()):
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
                tar.extractall(root, filter="data")
            return
    raise ValueError(f"{deb}: no data.tar member")


def find_icd(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    for place in ICD_PLACES:
        p = Path(place)
        if p.is_dir():
            for f in sorted(p.glob("*.json")):
                if "nvidia" in f.name.lower():
                    return str(f)
    return None


def environment(bundle: Path | None, icd: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    if bundle is not None:
        root = REPO / "build" / "vulkan_root"
        root.mkdir(parents=True, exist_ok=True)
        for deb in sorted(bundle.glob("*.deb")):
            say(f"unpacking {deb.name} -> {root}")
            unpack_deb(deb, root)
        libs = [str(p) for p in (root / "usr" / "lib").glob("*-linux-gnu")] + [str(root / "usr" / "lib")]
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libs + [env.get("LD_LIBRARY_PATH", "")])
        wheels = bundle / "wheels"
        if wheels.is_dir():
            target = REPO / "build" / "pydeps"
            say(f"installing wheels from {wheels} -> {target}")
            subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--find-links", str(wheels),
                            "--target", str(target), "--upgrade", *[w.split(">")[0] for w in WHEELS]],
                           check=True)
            # keep the machine's own numpy (torch is built against it): drop the copy wgpu pulled in
            for p in list(target.glob("numpy")) + list(target.glob("numpy-*")) + list(target.glob("numpy.libs")):
                shutil.rmtree(p, ignore_errors=True)
            env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(target)])
    icd_file = find_icd(icd)
    if icd_file:
        env["VK_ICD_FILENAMES"] = icd_file
        env["VK_DRIVER_FILES"] = icd_file
        say(f"Vulkan ICD: {icd_file}")
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    return env


def driver_name(env: dict[str, str]) -> str:
    code = ("from tools.vulkan_harness.wgpu_sampler import open_device\n"
            "print('DRIVER:' + open_device().description)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    for line in res.stdout.splitlines():
        if line.startswith("DRIVER:"):
            return line[len("DRIVER:"):].strip()
    raise SystemExit(f"no Vulkan adapter could be opened through wgpu:\n{res.stdout}{res.stderr}")


# ------------------------------------------------------------------------------------------ report

def summarise(lines: list[dict]) -> dict[tuple[str, str], dict]:
    """Totals per (kind, profile): cases, samples, mismatches, max error, outside bounded, skipped."""
    out: dict[tuple[str, str], dict] = defaultdict(lambda: {"cases": 0, "samples": 0, "mismatches": 0,
                                                           "max_abs_error": 0.0, "outside_bounded": 0,
                                                           "not_run": 0, "failed_cases": []})
    for r in lines:
        kind = r.get("kind", "sampler")
        s = out[kind, r.get("profile", "?")]
        if "samples" not in r:
            s["not_run"] += 1
            continue
        s["cases"] += 1
        s["samples"] += r["samples"]
        s["mismatches"] += r["mismatches"]
        s["max_abs_error"] = max(s["max_abs_error"], r.get("max_abs_error", 0.0))
        s["outside_bounded"] += r.get("outside_bounded", 0)
        if r["mismatches"] or r.get("outside_bounded", 0):
            s["failed_cases"].append(r["case"])
    return dict(out)


def render(driver: str, summary: dict, pytest_line: str, meta: dict) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", driver.lower()).strip("-")[:60]
    rows = ["| suite | reference | cases | samples compared | mismatches | max abs error | outside `bounded` | "
            "not run |", "|---|---|---|---|---|---|---|---|"]
    for (kind, profile), s in sorted(summary.items()):
        suite = "shader decode (bytes)" if kind == "decode" else "sampler (float32)"
        err = f"{s['max_abs_error']:.3g}" + (" (bytes/255)" if kind == "decode" else "")
        rows.append(f"| {suite} | {profile} | {s['cases']} | {s['samples']:,} | {s['mismatches']:,} | {err} | "
                    f"{s['outside_bounded']:,} | {s['not_run']} |")
    failed = [c for s in summary.values() for c in s["failed_cases"]]
    text = [f"<!-- BEGIN run_nvidia_conformance:{slug} -->", f"## {driver}", "",
            f"Run {meta['date']} by `tools/run_nvidia_conformance.py` on {meta['host']} (Python {meta['python']}): "
            f"{pytest_line}.", "", *rows, ""]
    if failed:
        text += [f"Cases with differences: {', '.join(failed[:20])}" + (" ..." if len(failed) > 20 else ""), ""]
    text += ["`reference` is the runtime_ref profile the driver is compared with bit for bit (`exact`: the integer "
             "decode, no sampler involved). `not run`: cases the profile has not measured or the driver cannot "
             "express (recorded, skipped).", f"<!-- END run_nvidia_conformance:{slug} -->"]
    return "\n".join(text) + "\n", slug


def write_docs(section: str, slug: str) -> None:
    begin, end = f"<!-- BEGIN run_nvidia_conformance:{slug} -->", f"<!-- END run_nvidia_conformance:{slug} -->"
    head = ("# Conformance on real Vulkan drivers\n\nWhat the conformance suite measured on each driver: the "
            "sampler profiles of ngsdk.runtime_ref.sampling against the driver's texture unit, and the shared shader "
            "decode (engine_plugins/shaders) against runtime_ref. Each section is written by "
            "`tools/run_nvidia_conformance.py` on the machine it names.\n")
    old = DOCS.read_text(encoding="utf-8") if DOCS.exists() else head
    if begin in old and end in old:
        new = old[:old.index(begin)] + section.rstrip("\n") + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    tmp = DOCS.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, DOCS)


# ------------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prepare", type=Path, help="download .debs and wheels into this folder, then stop")
    ap.add_argument("--python-version", default="3.12", help="wheels for this Python (with --prepare)")
    ap.add_argument("--bundle", type=Path, help="folder made by --prepare: unpack and use it")
    ap.add_argument("--icd", help="Vulkan ICD JSON to use (default: the NVIDIA one, if any)")
    ap.add_argument("--no-docs", action="store_true", help="do not write docs/conformance.md")
    ap.add_argument("-k", dest="keyword", help="pytest -k expression (a subset of the suite)")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = ap.parse_args(argv)
    if args.prepare:
        prepare(args.prepare, args.python_version)
        return 0
    env = environment(args.bundle, args.icd)
    driver = driver_name(env)
    say(f"driver: {driver}")
    slug = re.sub(r"[^a-z0-9]+", "-", driver.lower()).strip("-")[:60]
    out_dir = REPO / "build" / "conformance"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"{slug}.jsonl"
    report.unlink(missing_ok=True)
    env["NGSDK_CONFORMANCE_REPORT"] = str(report)
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "conformance", "-p", "no:cacheprovider", *SUITE,
           *(["-k", args.keyword] if args.keyword else []), *args.pytest_args]
    say(" ".join(cmd))
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    sys.stdout.write(res.stdout[-6000:])
    sys.stderr.write("\n".join(l for l in res.stderr.splitlines() if "XDG_RUNTIME_DIR" not in l)[-3000:])
    last = [l for l in res.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", l)]
    pytest_line = last[-1].strip("= ") if last else f"pytest exit status {res.returncode}"
    lines = [json.loads(l) for l in report.read_text().splitlines()] if report.exists() else []
    summary = summarise(lines)
    meta = {"date": datetime.date.today().isoformat(), "host": os.uname().nodename, "python": sys.version.split()[0]}
    section, slug = render(driver, summary, pytest_line, meta)
    say("\n" + section)
    if not args.no_docs:
        write_docs(section, slug)
        say(f"wrote {DOCS}")
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
