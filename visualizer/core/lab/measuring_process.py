"""The lab's measuring process seen from the process that started it: the child, the length-prefixed pickles both
ways, and how its replies are read (core.lab.worker has the leases, the batching and the child's own loop).

The child is a plain ``python -m visualizer.core.lab.worker`` (not multiprocessing: the window's training process
is a daemon, which may not have multiprocessing children), reading length-prefixed pickles on stdin and writing
them on stdout; it ends at the end of its input, so it never outlives its parent."""

from __future__ import annotations

import os
import pickle
import queue
import select
import struct
import subprocess
import sys
import threading
import time

#: the name of the thread that reads the measuring process's replies where its pipe cannot be polled (Windows)
READER_THREAD = "lab-measuring-reader"
_HEADER = struct.Struct("<Q")


def _send(stream, obj) -> None:
    data = obj if isinstance(obj, bytes) else pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream):
    """The next object, or EOFError at the end of the stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class MeasuringProcess:
    """The child process and how its replies are read. Started once, kept warm for the runs after (the window's
    training process trains many), ended at this process's exit or when its input ends.

    On POSIX the run's own thread reads the replies when it looks for them (a non-blocking read of the pipe: a
    few microseconds). A reader thread, as on Windows (whose pipes cannot be polled), wakes for every reply and
    takes the GIL from the training thread; beside a busy process that thread waits for a core while it holds
    the GIL, and the training with it: 0.85 of the training speed with it against 0.9x without (moons, tracked
    every 50 steps)."""

    def __init__(self) -> None:
        self.ready = threading.Event()  # the child has imported torch and waits for work
        self.ended = False
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        self._child = subprocess.Popen([sys.executable, "-m", "visualizer.core.lab.worker"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL, env=env)
        self._off_cpu = None  # the CPU the child is kept off (keep_off_my_cpu); False: not done here
        self._polled = os.name == "posix"
        self._replies: queue.Queue = queue.Queue()  # replies read, not taken yet (then ("ended", None, None))
        self._reader = None
        if self._polled:
            self._fd = self._child.stdout.fileno()
            os.set_blocking(self._fd, False)
            _widen(self._fd)
            self._buffer = bytearray()
            self._lock = threading.Lock()
        else:
            self._reader = threading.Thread(target=self._read, name=READER_THREAD, daemon=True)
            self._reader.start()

    def _read(self) -> None:
        out = self._child.stdout
        while True:
            try:
                reply = _receive(out)
            except (EOFError, OSError, pickle.UnpicklingError):
                self._got(None)
                return
            self._got(reply)

    def _got(self, reply) -> None:
        """A reply read (None: the child's output ended)."""
        if reply is None:
            self.ended = True
            self._replies.put(("ended", None, None))
        elif reply[0] == "ready":
            self.ready.set()
        else:
            self._replies.put(reply)

    def _pump(self, timeout: float = 0.0) -> None:
        """(polled) Read what the pipe holds, waiting up to ``timeout`` seconds for something to come."""
        with self._lock:
            if self._fd < 0:
                return
            if timeout > 0 and not select.select([self._fd], [], [], timeout)[0]:
                return
            ended = False
            while True:
                try:
                    data = os.read(self._fd, 1 << 16)
                except BlockingIOError:
                    break
                except OSError:
                    data = b""
                if not data:
                    ended = True
                    break
                self._buffer += data
            while len(self._buffer) >= _HEADER.size:
                size = _HEADER.unpack_from(self._buffer)[0]
                if len(self._buffer) < _HEADER.size + size:
                    break
                try:
                    reply = pickle.loads(self._buffer[_HEADER.size:_HEADER.size + size])
                except (pickle.UnpicklingError, EOFError, ValueError):
                    ended = True
                    break
                del self._buffer[:_HEADER.size + size]
                self._got(reply)
            if ended:
                self._fd = -1
                self._got(None)

    def waiting(self) -> bool:
        """Whether a reply (or the news that the child ended) waits to be taken."""
        if self._polled and self._replies.empty():
            self._pump()
        return not self._replies.empty()

    def take(self, timeout: float | None):
        """The next reply; waits up to ``timeout`` seconds for it (None: does not wait); raises queue.Empty."""
        if not self._polled:
            return self._replies.get(block=timeout is not None, timeout=timeout)
        self._pump()
        if timeout is not None:
            deadline = time.monotonic() + timeout
            while self._replies.empty() and self._fd >= 0 and time.monotonic() < deadline:
                self._pump(min(1.0, max(deadline - time.monotonic(), 0.001)))
        return self._replies.get_nowait()  # (queue.Empty when nothing came)

    def up(self, timeout: float = 0.0) -> bool:
        """Whether the child is up (has imported torch), waiting up to ``timeout`` seconds for it."""
        if not self._polled:
            return self.ready.wait(timeout) if timeout > 0 else self.ready.is_set()
        deadline = time.monotonic() + timeout
        self._pump()
        while not self.ready.is_set() and self._fd >= 0 and time.monotonic() < deadline:
            self._pump(min(0.5, max(deadline - time.monotonic(), 0.001)))
        return self.ready.is_set()

    def send(self, message) -> bool:
        """False when the child is gone. The child is kept off the sender's CPU first (``keep_off_my_cpu``)."""
        self.keep_off_my_cpu()
        try:
            _send(self._child.stdin, message)
            return True
        except (OSError, ValueError):
            self.ended = True
            return False

    def keep_off_my_cpu(self) -> None:
        """(Linux) Let the child run on every CPU this process may use but the one the calling thread (the
        training's) is on now; asked at every message, changed only when that CPU changed.

        A child woken by the training's message is placed by the kernel on the waker's CPU when it sees no idle
        one (beside a busy process on 2 cores), and its work is then taken from the training's time slice: tracked
        every 50 steps, moons trained at 0.86 of its speed beside a busy process; kept off the training's CPU, the
        child shares the other one with the busy process and training keeps 0.94 (0.95 alone)."""
        if self._off_cpu is False:
            return
        cpu = _current_cpu()
        if cpu is None:
            self._off_cpu = False
            return
        if cpu == self._off_cpu:
            return
        others = os.sched_getaffinity(0) - {cpu}
        if not others:  # this process may use one CPU only: the child shares it
            return
        try:
            os.sched_setaffinity(self._child.pid, others)
            self._off_cpu = cpu
        except OSError:  # (the child has ended)
            self._off_cpu = False

    def kill(self) -> None:
        """End a child that stopped answering (its reader sees the end and marks it ended)."""
        self.ended = True
        try:
            self._child.kill()
        except OSError:
            pass

    def status(self) -> str:
        code = self._child.poll()
        return "still running" if code is None else f"exit status {code}"

    def close(self) -> None:
        try:
            if self.ready.is_set():
                self._child.stdin.close()  # its input ends: it ends
                self._child.wait(timeout=5)
            else:  # still importing torch: no need to wait for that
                self._child.kill()
                self._child.wait()
        except (OSError, subprocess.TimeoutExpired):
            self._child.kill()
            self._child.wait()
        if self._reader is not None:
            self._reader.join()
        for stream in (self._child.stdin, self._child.stdout):
            try:
                stream.close()
            except OSError:
                pass


#: the pipe's capacity asked for on Linux (its default, 64 kB, holds the warm-start vector of 8,000 weights; a
#: reply that does not fit waits in the child until the run looks again: the digits MLP's, 210 kB, took 4 looks)
PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    """Ask for a PIPE_BYTES pipe (Linux; up to /proc/sys/fs/pipe-max-size, 1 MB by default); elsewhere, or when
    refused, the pipe stays as it is."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


_sched_getcpu = None  # libc's sched_getcpu where it and os.sched_setaffinity exist (Linux), else False


def _current_cpu() -> int | None:
    """The CPU the calling thread runs on now (Linux: libc's sched_getcpu, about a microsecond); None elsewhere."""
    global _sched_getcpu
    if _sched_getcpu is None:
        _sched_getcpu = False
        if hasattr(os, "sched_setaffinity") and sys.platform.startswith("linux"):
            try:
                import ctypes

                _sched_getcpu = ctypes.CDLL(None).sched_getcpu
                _sched_getcpu.restype = ctypes.c_int
            except (OSError, AttributeError):
                pass
    if not _sched_getcpu:
        return None
    cpu = _sched_getcpu()
    return cpu if cpu >= 0 else None


def keeps_off_the_callers_cpu() -> bool:
    """Whether the child can be kept off the training's CPU here (Linux)."""
    return _current_cpu() is not None
