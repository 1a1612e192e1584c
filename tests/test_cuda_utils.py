"""Device utilities (cuda.*), backends flags, version, inference_mode and compile. The cuda
cases run on the CuPy stand-in here (its getDeviceProperties, Device, Stream and Event) and
on a real GPU where one is lent; without CUDA the calls that need a device raise the
library's message and the statistics read 0."""
import time

import pytest

import autograd_gpu as ag


def _cuda_or_skip(device):
    if device != "cuda":
        pytest.skip("a CUDA-only utility")


def test_device_properties_and_current_device(device):
    _cuda_or_skip(device)
    cp = ag.backend.cupy_module()
    raw = cp.cuda.runtime.getDeviceProperties(0)
    p = ag.cuda.get_device_properties(0)
    name = raw["name"].decode() if isinstance(raw["name"], bytes) else raw["name"]
    assert p.name == name == ag.cuda.get_device_name() == ag.cuda.get_device_name("cuda:0")
    assert (p.total_memory, p.major, p.minor, p.multi_processor_count) == (
        raw["totalGlobalMem"], raw["major"], raw["minor"], raw["multiProcessorCount"])
    assert ag.cuda.get_device_capability(0) == (p.major, p.minor)
    assert "total_memory=" in repr(p)
    with pytest.raises(AssertionError, match="Invalid device id"):
        ag.cuda.get_device_properties(ag.cuda.device_count())
    start = ag.cuda.current_device()
    last = ag.cuda.device_count() - 1
    with ag.cuda.device(last):
        assert ag.cuda.current_device() == last
        assert ag.zeros(2, device="cuda").device.index in (0, last)
    assert ag.cuda.current_device() == start
    ag.cuda.set_device(last)
    assert ag.cuda.current_device() == last
    ag.cuda.set_device(-1)  # negative: no change, as PyTorch
    assert ag.cuda.current_device() == last
    ag.cuda.set_device(start)


def test_memory_statistics(device):
    _cuda_or_skip(device)
    x = ag.ones(1 << 16, device="cuda")
    a = ag.cuda.memory_allocated()
    assert isinstance(a, int) and a >= 0
    assert ag.cuda.max_memory_allocated() >= a
    assert ag.cuda.memory_reserved() >= a and ag.cuda.max_memory_reserved() >= ag.cuda.memory_reserved()
    ag.cuda.reset_peak_memory_stats()
    assert ag.cuda.max_memory_allocated() == ag.cuda.memory_allocated()
    assert set(ag.cuda.memory_stats()) >= {"allocated_bytes.all.current", "allocated_bytes.all.peak"}
    del x
    ag.cuda.empty_cache()
    ag.cuda.synchronize()
    free, total = ag.cuda.mem_get_info()
    assert 0 <= free <= total
    assert ag.cuda.is_bf16_supported() is False
    ag.cuda.manual_seed_all(0)


def test_streams_and_events(device):
    _cuda_or_skip(device)
    s = ag.cuda.Stream()
    assert s.device == ag.device("cuda", ag.cuda.current_device())
    start, end = ag.cuda.Event(enable_timing=True), ag.cuda.Event(enable_timing=True)
    with ag.cuda.stream(s):
        assert ag.cuda.current_stream() == s
        start.record()
        y = ag.ones(64, 64, device="cuda") @ ag.ones(64, 64, device="cuda")
        time.sleep(0.002)
        end.record()
    assert ag.cuda.current_stream() != s
    end.synchronize()
    s.synchronize()
    assert end.query() and s.query()
    ms = start.elapsed_time(end)
    assert isinstance(ms, float) and ms >= 0
    assert float(y[0, 0]) == 64.0
    e = s.record_event()
    ag.cuda.current_stream().wait_event(e)
    ag.cuda.current_stream().wait_stream(s)
    untimed = ag.cuda.Event()
    untimed.record()
    with pytest.raises(RuntimeError, match="Both events must be created with argument 'enable_timing=True'"):
        start.elapsed_time(untimed)
    assert ag.cuda.default_stream() != s
    with ag.cuda.stream(None):
        pass


def test_without_cuda_statistics_read_zero(monkeypatch):
    from autograd_gpu import backend

    monkeypatch.setattr(backend.devices, "_cuda_state", (None, "no device here (test)"))
    assert ag.cuda.memory_allocated() == 0 and ag.cuda.max_memory_allocated() == 0
    assert ag.cuda.memory_reserved() == 0 and ag.cuda.memory_stats() == {}
    ag.cuda.empty_cache()
    ag.cuda.reset_peak_memory_stats()
    assert ag.version.cuda is None
    for call in (ag.cuda.get_device_name, ag.cuda.Event, ag.cuda.Stream, lambda: ag.cuda.set_device(0)):
        with pytest.raises(RuntimeError, match="no device here \\(test\\)"):
            call()


def test_version_cuda(device):
    _cuda_or_skip(device)
    v = ag.version.cuda
    rt = ag.backend.cupy_module().cuda.runtime.runtimeGetVersion()
    assert v == f"{rt // 1000}.{(rt % 1000) // 10}"
    assert ag.__version__ == ag.version.__version__


def test_backends_flags(torch):
    b = ag.backends
    assert b.cudnn.is_available() is False and b.cudnn.version() is None
    for name in ("deterministic", "benchmark", "enabled", "allow_tf32"):
        assert getattr(b.cudnn, name) == getattr(torch.backends.cudnn, name)
    old = b.cudnn.benchmark
    b.cudnn.benchmark = True
    assert b.cudnn.benchmark is True
    b.cudnn.benchmark = old
    with b.cudnn.flags(enabled=False, deterministic=True):
        assert b.cudnn.enabled is False and b.cudnn.deterministic is True
    assert b.cudnn.enabled is True
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert ag.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    assert b.cuda.matmul.allow_tf32 is False
    ag.set_float32_matmul_precision("high")
    assert b.cuda.matmul.allow_tf32 is True and ag.get_float32_matmul_precision() == "high"
    b.cuda.matmul.allow_tf32 = False
    assert ag.get_float32_matmul_precision() == "highest"
    with pytest.warns(UserWarning, match="x is not one of 'highest', 'high', or 'medium'"):
        ag.set_float32_matmul_precision("x")
    assert ag.get_float32_matmul_precision() == "highest"
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        b.cuda.matmul.foo = 1


def test_inference_mode_and_compile(device):
    w = ag.ones(2, device=device, requires_grad=True)
    with ag.inference_mode():
        assert ag.is_inference_mode_enabled() and not ag.is_grad_enabled()
        y = w * 2
    assert not y.requires_grad and ag.is_grad_enabled() and not ag.is_inference_mode_enabled()
    with ag.inference_mode(False):
        assert (w * 2).requires_grad

    @ag.inference_mode()
    def f(x):
        return x * 3

    assert not f(w).requires_grad
    model = ag.nn.Linear(2, 2)
    assert ag.compile(model) is model
    assert ag.compile(f, mode="reduce-overhead") is f
    assert ag.compile(fullgraph=True)(f) is f
