"""What machine a benchmark ran on, and how much memory a process holds (Linux /proc)."""

import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path


def machine_info() -> dict:
    """nproc, RAM, CPU model, kernel, Python and the UTC date, for the results and docs/benchmarks.md."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "ram_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_before": round(os.getloadavg()[0], 2),
        "cpu_pressure_before": cpu_pressure(),
        "python_loop_s": python_loop_seconds(),
    }


def cpu_pressure() -> float | None:
    """Share of the last minute in which some runnable task waited for a CPU (PSI), in percent.

    Well above zero means other programs were competing for the CPUs, so absolute numbers
    are lower than on a quiet machine (ratios measured in the same run suffer less).
    """
    path = Path("/proc/pressure/cpu")
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("some"):
            return float(dict(part.split("=") for part in line.split()[1:])["avg60"])
    return None


def python_loop_seconds() -> float:
    """Seconds for a 5-million-step Python loop: a rough speed mark for comparing machines and runs."""
    began = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return round(time.perf_counter() - began, 2)


def describe(info: dict) -> str:
    return (
        f"{info['nproc']} CPUs ({info['cpu']}), {info['ram_gb']} GB RAM, Linux {info['kernel']}, "
        f"Python {info['python']}; before the run: load average {info['load_average_before']}, "
        f"CPU pressure {info['cpu_pressure_before']}% (PSI some avg60), "
        f"a 5-million-step Python loop took {info['python_loop_s']} s"
    )


def rss_mb(pid: int) -> dict:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers under its master)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        return [int(p) for p in children.read_text().split()]
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def _meminfo_kb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
