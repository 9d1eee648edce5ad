"""encoder = "auto": int8 queries where the CPU has VNNI/AMX, fp32 ONNX elsewhere; the default is fp32 ONNX."""

from __future__ import annotations

from index.embedder import cpu_int8_flags, resolve_backend


def _cpuinfo(tmp_path, flags: str):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\n")
    return path


def test_auto_picks_int8_on_a_cpu_with_vnni(tmp_path):
    for flags in ("avx512f avx512_vnni", "avx_vnni", "amx_int8 amx_tile"):
        assert resolve_backend("auto", _cpuinfo(tmp_path, flags)) == "onnx-int8", flags


def test_auto_stays_fp32_without_vnni_or_without_cpuinfo(tmp_path):
    assert resolve_backend("auto", _cpuinfo(tmp_path, "avx512f")) == "onnx"
    assert resolve_backend("auto", tmp_path / "missing") == "onnx"
    assert cpu_int8_flags(tmp_path / "missing") == []


def test_an_explicit_encoder_is_kept(tmp_path):
    vnni = _cpuinfo(tmp_path, "avx512_vnni")
    for name in ("onnx", "onnx-int8", "torch"):
        assert resolve_backend(name, vnni) == name


def test_the_service_default_is_fp32_onnx():
    # Chosen on the held-out question sets, where int8 lost a question on each (docs/performance.md).
    from service.settings import Settings

    assert Settings().encoder == "onnx"
