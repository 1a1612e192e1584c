"""`make gpu-check`: everything a lent CUDA machine should run, in one command, offline.

    python -m bench.gpu_check [--standin]

For a CUDA machine with no network whose python already has CuPy, PyTorch (CUDA), NumPy and
pytest. It installs the package from this checkout with no download (the C tape is compiled;
no venv), then runs, each step under its own time limit so the whole stays under 8 minutes:
the tests with CUDA cases (marker `gpu`), the examples on cuda, `python -m bench` for the
workloads with cuda columns, `python -m bench.gpu_kernels`, and compute-sanitizer's memcheck
over the kernel tests where compute-sanitizer is installed. Everything it sees (GPU name,
driver, versions, each step's log, the pytest summary, the benchmark JSON) is written under
bench/results/gpu-check-<date>-<host>/, with summary.json listing each step's command, exit
status, seconds and whether it ran out of time.

--standin rehearses the command on a machine without a GPU: every step imports the strict
CuPy stand-in of tests/cupy_standin instead of CuPy (the tests pick it by themselves there).
The stand-in runs every CUDA kernel on this machine's CPU (compiled with g++), so a rehearsal
shows that each step runs and passes, not how long it takes on a GPU: its time limits are
twice the GPU's, and the benchmark steps run their smallest sizes.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the examples that run with cuda as the default device; nonconvex, stop_gradient and
# function_minimization call .numpy() on their results (as the PyTorch programs they port
# do), which a CUDA tensor refuses, so they are CPU programs
EXAMPLES = ["two_layer_net", "least_squares", "linear_inverse", "cnn", "char_lstm"]
# the most telling test files first: a run cut short by its time limit has covered these
TESTS_FIRST = ["test_cuda_semantics.py", "test_kernels.py", "test_optim.py", "test_nn.py",
               "test_nn_conv.py", "test_nn_rnn.py", "test_nn_norm.py", "test_autograd.py",
               "test_tape.py", "test_memory.py", "test_custom_function.py", "test_ops.py"]

# (name, seconds allowed): 40 + 165 + 75 + 90 + 45 + 60 = 475 s at the very most
LIMITS = {"install": 40, "tests": 165, "examples": 75, "bench": 90, "gpu_kernels": 45,
          "memcheck": 60}


def _run(name, cmd, out_dir, env, limit, log_name=None):
    path = os.path.join(out_dir, (log_name or name) + ".log")
    start = time.monotonic()
    with open(path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        try:
            rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                timeout=limit).returncode
            timed_out = False
        except subprocess.TimeoutExpired:
            rc, timed_out = None, True
    took = round(time.monotonic() - start, 1)
    print(f"  {name:<28} {'TIMEOUT' if timed_out else 'rc=' + str(rc):<8} {took:6.1f} s  "
          f"-> {os.path.relpath(path, ROOT)}", flush=True)
    return {"step": name, "command": cmd, "rc": rc, "seconds": took, "timed_out": timed_out,
            "log": os.path.relpath(path, ROOT)}


def _gpu_info(py, env):
    info = {"host": platform.node(), "python": py,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if shutil.which("nvidia-smi"):
        q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                            "--format=csv,noheader"], capture_output=True, text=True)
        info["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
    probe = ("import json, numpy, autograd_gpu as ag; d = {'numpy': numpy.__version__, "
             "'cuda_available': ag.cuda.is_available(), 'reason': ag.cuda.unavailable_reason()}\n"
             "if d['cuda_available']:\n"
             "    import cupy; p = cupy.cuda.runtime.getDeviceProperties(0)\n"
             "    d.update(cupy=cupy.__version__, gpu=p['name'].decode() if isinstance(p['name'], bytes) else p['name'],"
             " cuda_runtime=cupy.cuda.runtime.runtimeGetVersion(), devices=ag.cuda.device_count())\n"
             "try:\n    import torch; d.update(torch=torch.__version__, torch_cuda=torch.cuda.is_available())\n"
             "except Exception as e: d['torch'] = repr(e)\n"
             "print(json.dumps(d))")
    r = subprocess.run([py, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=60)
    try:
        info.update(json.loads(r.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        info["probe_error"] = (r.stdout + r.stderr)[-2000:]
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.split("\n")[0])
    ap.add_argument("--standin", action="store_true",
                    help="rehearse without a GPU, on the CuPy stand-in of tests/cupy_standin")
    args = ap.parse_args(argv)
    limits = {k: v * (2 if args.standin else 1) for k, v in LIMITS.items()}
    py = sys.executable
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M")
    host = "".join(c if c.isalnum() else "-" for c in platform.node()).strip("-").lower() or "host"
    out_dir = os.path.join(ROOT, "bench", "results", f"gpu-check-{stamp}-{host}"
                           + ("-standin" if args.standin else ""))
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ)
    env.pop("AUTOGRAD_GPU_DEVICE", None)
    if args.standin:
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.join(ROOT, "tests", "cupy_standin")] + env.get("PYTHONPATH", "").split(os.pathsep))
    print(f"gpu-check: {py}, results in {os.path.relpath(out_dir, ROOT)}", flush=True)
    steps = [_run("install", [py, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                              "--no-index", "-q", "-e", "."], out_dir, env, limits["install"])]
    info = _gpu_info(py, env)
    with open(os.path.join(out_dir, "gpu.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"  GPU: {info.get('gpu', info.get('reason'))}; driver/memory: {info.get('nvidia_smi', '-')}")

    steps.append(_run("tests", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
                                "-rfE", "--junitxml", os.path.join(out_dir, "tests.xml"),
                                *[os.path.join("tests", t) for t in TESTS_FIRST
                                  if os.path.exists(os.path.join(ROOT, "tests", t))], "tests"],
                      out_dir, dict(env, AUTOGRAD_GPU_ORACLE="1"), limits["tests"]))
    per_example = limits["examples"] / len(EXAMPLES)
    for ex in EXAMPLES:
        script = os.path.join("examples", ex + ".py")
        if os.path.exists(os.path.join(ROOT, script)):
            steps.append(_run(f"example {ex}", [py, script, "--quick"], out_dir,
                              dict(env, AUTOGRAD_GPU_DEVICE="cuda"), per_example, f"example-{ex}"))
    steps.append(_run("bench", [py, "-m", "bench", "--only", "elementwise,matmul,optimizer",
                                "--out", out_dir, "--no-report"] + (["--quick"] if args.standin else []),
                      out_dir, env, limits["bench"]))
    steps.append(_run("gpu_kernels", [py, "-m", "bench.gpu_kernels", "--tiny" if args.standin else "--quick",
                                      "--out", out_dir], out_dir, env, limits["gpu_kernels"]))
    sanitizer = shutil.which("compute-sanitizer")
    if sanitizer and not args.standin:
        steps.append(_run("memcheck", [sanitizer, "--tool", "memcheck", "--error-exitcode", "3", py,
                                       "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
                                       "-x", "tests/test_kernels.py"], out_dir, env, limits["memcheck"]))
    else:
        steps.append({"step": "memcheck", "skipped": "compute-sanitizer is not on PATH"
                      if not sanitizer else "not run against the stand-in"})
    summary = {"gpu": info, "standin": args.standin, "steps": steps,
               "ok": all(s.get("rc") == 0 for s in steps if "skipped" not in s)}
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"gpu-check: {'all steps passed' if summary['ok'] else 'some steps failed or timed out'};"
          f" see {os.path.relpath(os.path.join(out_dir, 'summary.json'), ROOT)}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
