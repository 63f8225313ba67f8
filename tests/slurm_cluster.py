"""A single-node Slurm cluster on localhost for the tests: munged, slurmctld and slurmd in
the foreground, as root, every file (keys, configuration, state, logs, sockets) in one
temporary folder, no accounting database. Stopped by PID, always.

``missing()`` says why the cluster cannot start here (not root, binaries missing), for
the test to skip with that reason; anything else that goes wrong is an error.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "srun", "scontrol", "scancel")
# Debian's packages: slurm-wlm (daemons and clients) and munge.
PACKAGES = "slurm-wlm munge"


def missing():
    """Why no cluster can start here (None when it can)."""
    if os.geteuid() != 0:
        return "the Slurm daemons of this test run as root; run the tests as root"
    absent = [b for b in DAEMONS + CLIENTS if not _which(b)]
    if absent:
        return (
            f"Slurm or munge binaries not found ({', '.join(absent)}): "
            f"install Debian's {PACKAGES} (apt-get install -y {PACKAGES}), as .ci/run does"
        )
    return None


def _which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mem_mb():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def write_config(root, cpus, mem_mb, munge_socket):
    """``slurm.conf`` for one node (this host) in one partition, ``debug``, the default;
    no accounting storage, job status through slurmctld (``squeue``)."""
    node = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(
        f"""\
ClusterName=vlmbraintest
SlurmctldHost={node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
MinJobAge=300
InactiveLimit=0
KillWait=5
Waittime=0
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""
    )
    return conf


class Cluster:
    """The running cluster: its folder, ``env`` (SLURM_CONF for the clients) and daemons."""

    def __init__(self, root):
        self.root = Path(root)
        self.procs = {}
        self.env = dict(os.environ)

    def log(self, name):
        path = self.root / f"{name}.log"
        return path.read_text()[-4000:] if path.exists() else ""

    def logs(self):
        return "\n".join(f"--- {name}.log\n{self.log(name)}" for name in DAEMONS)

    def run(self, *args, check=True):
        out = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {out.stderr}\n{self.logs()}")
        return out

    def _start(self, name, *args, nice=0):
        cmd = [_which(name), *args]
        if nice:
            cmd = ["nice", "-n", str(nice), *cmd]
        out = open(self.root / f"{name}.out", "w")
        self.procs[name] = subprocess.Popen(
            cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                out = (self.root / f"{name}.out").read_text()[-3000:]
                raise RuntimeError(
                    f"{name} exited with status {proc.returncode}:\n{out}\n{self.logs()}"
                )

    def start(self, cpus, mem_mb, nice=0):
        """Start munged, slurmctld and slurmd (jobs inherit slurmd's ``nice``); wait until
        the node is idle."""
        root = self.root
        for sub in ("state", "spool", "munge"):
            (root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        key = root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        munge_socket = root / "munge" / "munge.socket"
        self._start(
            "munged",
            "--foreground",
            "--force",
            f"--key-file={key}",
            f"--socket={munge_socket}",
            f"--pid-file={root}/munge/munged.pid",
            f"--log-file={root}/munged.log",
            f"--seed-file={root}/munge/munged.seed",
        )
        _wait(lambda: munge_socket.exists(), 20, "munged's socket", self)
        conf = write_config(root, cpus, mem_mb, munge_socket)
        self.env["SLURM_CONF"] = str(conf)
        # Inside a job, the plugin's jobstep executor runs each rule with srun, in an
        # environment stripped of SLURM_* variables other than the job's identity, so srun
        # would look for the configuration at its default place (/etc/slurm) only; a srun
        # first on the jobs' PATH points it at this cluster's.
        bin_dir = root / "bin"
        bin_dir.mkdir(exist_ok=True)
        srun = bin_dir / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={conf} exec {_which("srun")} "$@"\n')
        srun.chmod(0o755)
        self.env["PATH"] = f"{bin_dir}:{self.env.get('PATH', '')}"
        self._start("slurmctld", "-D", "-i", "-f", str(conf))
        self._start("slurmd", "-D", "-f", str(conf), nice=nice)

        def idle():
            self._alive()
            out = self.run("sinfo", "--noheader", "--format=%t", check=False)
            return out.returncode == 0 and out.stdout.strip() == "idle"

        _wait(idle, 60, "an idle Slurm node", self)

    def stop(self):
        """Stop every daemon this cluster started, by PID (TERM, then KILL)."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=20)


def _wait(ready, seconds, what, cluster):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ready():
            return
        time.sleep(0.5)
    raise RuntimeError(f"no {what} after {seconds} s\n{cluster.logs()}")


@contextmanager
def slurm_cluster(root, cpus=None, mem_mb=None, nice=10):
    """A running single-node cluster in ``root`` (see ``Cluster``), stopped on exit,
    even on failure.

    Parameters
    ----------
    root : path
        An empty folder for the keys, configuration, state and logs.
    cpus, mem_mb : int, optional
        The node's CPUs and memory; default: this machine's.
    nice : int
        Niceness of slurmd, inherited by every job.
    """
    cluster = Cluster(root)
    try:
        cluster.start(cpus or os.cpu_count(), mem_mb or _mem_mb(), nice=nice)
        yield cluster
    finally:
        cluster.stop()
