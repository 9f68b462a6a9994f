"""How many threads torch computes with: one policy for the command line, the window, its workers and the
benchmarks, so that the work never collapses when another process is busy (a laptop always has one).

Measured on this project's 2-core machines with one busy process beside the run: the digits MLP trained at 1,850
steps/s with one torch thread and at 362 with torch's default of two (OpenMP's threads spin while they wait for
the busy core); with OMP_WAIT_POLICY=PASSIVE two threads still reached only 1,213. Small work therefore gets one
thread; work large enough to pay for its threads gets more, never all the cores (one stays for the window and
everything else), and OpenMP waits passively. An explicit choice (``--threads N``, or $VISUALIZER_THREADS) wins.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

ENV = "VISUALIZER_THREADS"
#: multiply-adds of one forward pass below which one thread is the fastest choice (see ``bench threads``)
ONE_THREAD_BELOW = 2 ** 24
#: the policy never asks for more than this many threads
MAX_THREADS = 8


@dataclass(frozen=True)
class ThreadChoice:
    """How many torch threads, where that came from ('--threads', ENV or 'policy'), and why, in words."""

    threads: int
    source: str
    reason: str

    def text(self) -> str:
        """One line for a status bar or a log: '1 torch thread (a small model)'."""
        return f"{self.threads} torch thread{'s' if self.threads != 1 else ''} ({self.reason})"

    def as_dict(self) -> dict:
        return {"threads": self.threads, "source": self.source, "reason": self.reason}


def cores() -> int:
    """The cores this process may run on (its affinity where the system says, else the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def wait_passively() -> None:
    """Make OpenMP's idle threads sleep rather than spin (it must be set before torch is imported; a user's own
    setting is kept): spinning threads are what collapse a run beside a busy process."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def one_blas_thread() -> None:
    """numpy's BLAS at one thread in this process (the window's): its work is small vectors (a projection, a norm
    of the weights), and a threaded BLAS waits for a second core that training holds. Measured beside a training
    process: one norm of the digits MLP's 26k weights took 51 ms (its helper thread waiting for a core), against
    0.004 ms on one thread. Once a process: threadpoolctl finds the libraries by reading the process's memory map
    (2-3 ms, a percent of a short run's time when every run asked again)."""
    global _blas_limited
    if _blas_limited:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    _blas_limited = True


_blas_limited = False


def forward_work(widths: Sequence[int], rows: int) -> int:
    """Multiply-adds of one forward pass of an MLP with layer ``widths`` (inputs, hidden..., outputs) over
    ``rows`` samples: what one training step or one grid point's evaluation costs, give or take a factor of 3."""
    return int(rows) * sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def policy_threads(work: int, available: int | None = None) -> tuple[int, str]:
    """The policy alone: (threads, reason) for ``work`` multiply-adds per pass."""
    available = cores() if available is None else available
    if work < ONE_THREAD_BELOW:
        return 1, "a small model: one thread is fastest, also beside a busy process"
    if available <= 2:
        return 1, f"{available} cores: a second thread would compete with the window and other processes"
    n = min(MAX_THREADS, available - 1)
    return n, f"a large model on {available} cores: {n} threads, one core left free"


def _explicit(value, where: str) -> int:
    from visualizer.core.errors import VisualizerError

    try:
        n = int(str(value).strip())
    except ValueError:
        raise VisualizerError(f"{where}: {value!r} is not a number of threads; allowed: 1 to 256") from None
    if not 1 <= n <= 256:
        raise VisualizerError(f"{where}: {n} is out of range; allowed: 1 to 256")
    return n


def choose_threads(work: int, explicit: int | None = None) -> ThreadChoice:
    """``explicit`` (a command's --threads; 0 or None: not given), else $VISUALIZER_THREADS, else the policy."""
    if explicit:
        return ThreadChoice(_explicit(explicit, "--threads"), "--threads", "as asked with --threads")
    if os.environ.get(ENV, "").strip():
        n = _explicit(os.environ[ENV], f"${ENV}")
        return ThreadChoice(n, ENV, f"as ${ENV} asks")
    n, reason = policy_threads(work)
    return ThreadChoice(n, "policy", reason)


def apply_threads(choice: ThreadChoice) -> ThreadChoice:
    """Set torch's intra-op threads of the calling thread's process to the choice; returns it."""
    import torch

    if torch.get_num_threads() != choice.threads:
        torch.set_num_threads(choice.threads)
    return choice
