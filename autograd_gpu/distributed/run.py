"""A torchrun-like launcher for one machine:

    python -m autograd_gpu.distributed.run --nproc-per-node N train.py [args...]

starts N copies of ``train.py`` with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
MASTER_ADDR and MASTER_PORT set. Where ``mpirun`` is on PATH (the default
``--launcher auto``) the copies are started by mpirun, so both backends work: MPI needs its
processes to come from mpirun, and NCCL then shares its unique id over MPI. With
``--launcher spawn`` (or no mpirun) they are plain subprocesses: the NCCL backend meets at
MASTER_ADDR:MASTER_PORT over TCP; the MPI backend refuses to start there. If a copy fails the
others are stopped and the launcher exits with its status.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

_CHILD_FLAG = "--_autograd_gpu_mpi_child"


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m autograd_gpu.distributed.run",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1)
    p.add_argument("--nnodes", type=int, default=1, help="only 1: across hosts use mpirun -H")
    p.add_argument("--master-addr", "--master_addr", default=os.environ.get("MASTER_ADDR", "127.0.0.1"))
    p.add_argument("--master-port", "--master_port", type=int,
                   default=int(os.environ.get("MASTER_PORT", "29500")))
    p.add_argument("--launcher", choices=("auto", "mpirun", "spawn"), default="auto")
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module")
    p.add_argument("script")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.nnodes != 1:
        p.error("--nnodes > 1 is not supported: start ranks on several hosts with "
                "mpirun -H host1,host2 ... python train.py")
    if args.nproc_per_node < 1:
        p.error("--nproc-per-node must be at least 1")
    return args


def _target(args):
    return [sys.executable, "-u"] + (["-m", args.script] if args.module else [args.script]) + args.script_args


def _run_mpirun(args, mpirun):
    cmd = [mpirun, "-np", str(args.nproc_per_node)]
    version = subprocess.run([mpirun, "--version"], capture_output=True, text=True).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        cmd.append("--oversubscribe")  # more ranks than cores is allowed, if slow
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        for name in ("MASTER_ADDR", "MASTER_PORT"):
            cmd += ["-x", name]
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port))
    cmd += [sys.executable, "-m", "autograd_gpu.distributed.run", _CHILD_FLAG] + _target(args)
    return subprocess.call(cmd, env=env)


def _mpi_child(argv):
    """Under mpirun: PyTorch's variables from MPI's, then the program in this process's place."""
    env = os.environ
    rank = env.get("OMPI_COMM_WORLD_RANK") or env.get("PMI_RANK") or env.get("PMIX_RANK") or "0"
    size = env.get("OMPI_COMM_WORLD_SIZE") or env.get("PMI_SIZE") or "1"
    env["RANK"], env["WORLD_SIZE"] = rank, size
    env["LOCAL_RANK"] = env.get("OMPI_COMM_WORLD_LOCAL_RANK") or env.get("MPI_LOCALRANKID") or rank
    env["LOCAL_WORLD_SIZE"] = env.get("OMPI_COMM_WORLD_LOCAL_SIZE") or env.get("MPI_LOCALNRANKS") or size
    os.execv(argv[0], argv)


def _run_spawn(args):
    n = args.nproc_per_node
    procs = []
    for r in range(n):
        env = dict(os.environ, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(n),
                   LOCAL_WORLD_SIZE=str(n), MASTER_ADDR=args.master_addr,
                   MASTER_PORT=str(args.master_port))
        procs.append(subprocess.Popen(_target(args), env=env))
    status = 0
    try:
        while procs:
            for p in list(procs):
                rc = p.poll()
                if rc is None:
                    continue
                procs.remove(p)
                if rc != 0 and status == 0:
                    status = rc
                    for q in procs:
                        q.terminate()
            time.sleep(0.05)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        raise
    return status


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == _CHILD_FLAG:
        _mpi_child(argv[1:])
        return 0
    args = _parse(argv)
    mpirun = shutil.which("mpirun") if args.launcher in ("auto", "mpirun") else None
    if args.launcher == "mpirun" and mpirun is None:
        raise SystemExit("--launcher mpirun: mpirun is not on PATH")
    return _run_mpirun(args, mpirun) if mpirun else _run_spawn(args)


if __name__ == "__main__":
    sys.exit(main())
