"""The sharpness measured in a process of its own, beside training.

A measurement is a handful of Hessian-vector products on the whole (or a 2,048-sample subset of the) training set:
on the moons preset about 1 ms, where a training step takes 0.2-0.25 ms, so measuring every 50 steps in the
training loop costs it 11 % of its speed, and a thread beside it costs more (the two contend for the GIL at every
small torch call). Here a child process holds a copy of the model and the ``SharpnessMeter``; at a measured step the
training thread sends it the weights and the preconditioner's scale (a few kB through a pipe, tens of microseconds)
and goes on (a small model's measurements go in batches, at most 20 messages a second: BATCH_S); the readings
come back in the order sent, read by the run's thread when it looks for them (MeasuringProcess). On Linux the
child is kept off the training's CPU (so that beside a busy process its work is not taken from the training's
time), and it runs at a lower priority (nice 5, ``VISUALIZER_LAB_NICE``): background work that yields to the
window and the user's programs 3 to 1, enough to keep up (it needs about a tenth of a core; at nice 10, a share
of 1 in 10 beside a busy process, it fell behind and the training waited: 0.915 of its speed against 0.94 at
nice 5). The numbers are those of measuring in the loop: the same weights,
the same float operations, the same warm-start chain (the child measures one request after another).

How the child is started and talked to is core.lab.measuring_process; ``serve`` and ``main`` below are the child's
side. It is started by the first run that measures and kept warm for the runs after it (one run at a time; another
run meanwhile measures in its loop).
Until it is up (importing torch takes a second or two) a run measures in its loop, then hands the meter over with
its warm start, so the readings are the same whenever the hand-over happens.
"""

from __future__ import annotations

import atexit
import collections
import os
import pickle
import queue
import sys
import threading
import time

from visualizer.core.lab.measuring_process import MeasuringProcess, _receive, _send, keeps_off_the_callers_cpu

#: the machine's cores (os.cpu_count reads /sys: 50 µs, too slow for every measurement)
_CORES = os.cpu_count() or 1


def _forced() -> str:
    choice = os.environ.get("VISUALIZER_LAB_WORKER", "").strip().lower()
    return choice if choice in ("process", "inline") else ""


def wanted(device) -> bool:
    """Whether a session on ``device`` may measure in the measuring process: on a CPU with more than one core (on
    a GPU the products are the GPU's work and the process would need its own CUDA context).
    ``VISUALIZER_LAB_WORKER`` = ``process`` or ``inline`` overrides it."""
    if str(device) != "cpu" or getattr(sys, "frozen", False):  # (a frozen app's executable is not a Python)
        return False
    forced = _forced()
    return forced == "process" if forced else _CORES >= 2


def core_to_spare() -> bool:
    """Whether the measuring process may take the measurement now rather than the training loop. On Linux, where
    the process is kept off the training's CPU (MeasuringProcess.keep_off_my_cpu): always; measured on 2 cores
    (moons, every 50 steps, medians of 11 repeats): the process costs training 5-6 % of its speed alone and 6-6.5 %
    beside a busy process, the loop 11 % either way. Elsewhere (the child may be woken on the training's CPU and
    take its time): while the 1-minute load average (the training itself counts one) is under the cores less one
    half (beside a busy process the process then cost 14-16 %, the loop 11-14 %); without a load average
    (Windows): yes."""
    if _forced():
        return _forced() == "process"
    if keeps_off_the_callers_cpu():
        return True
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return True
    return load < _CORES - 0.5


#: the longest wait for one reading before the measuring process is taken for stuck (a cold measurement of the
#: digits CNN on 2,048 samples takes seconds, not minutes)
ANSWER_S = 300.0
#: a measurement sent within this many seconds of the last message to the measuring process waits for the next
#: one (or for a wait, or for a step that looks for readings after that time): a small model measured every 50
#: steps measures 50-60 times a second, and each message wakes the child and each reply this process's reader
#: thread; in batches the wake-ups are 20 a second at most
BATCH_S = 0.05
#: the most measurements one message carries
BATCH_MOST = 4
_lock = threading.Lock()
_process: MeasuringProcess | None = None
_leased = False
_tokens = iter(range(1, 1 << 62))


def lease() -> Lease | None:
    """The measuring process for one run, started when there is none yet (None while another run holds it)."""
    global _process, _leased
    with _lock:
        if _leased:
            return None
        if _process is None or _process.ended:
            if _process is not None:
                _process.close()
            _process = MeasuringProcess()
        _leased = True
        return Lease(_process, next(_tokens))


def warm(timeout: float = 30.0) -> bool:
    """Start the measuring process (when there is none) and wait until it is up; False if it is held by a run or
    did not come up in time (the benchmarks time the runs after this)."""
    held = lease()
    if held is None:
        return False
    try:
        return held.process.up(timeout)
    finally:
        held.release()


@atexit.register
def shutdown() -> None:
    """End the measuring process (at exit; tests call it too)."""
    global _process
    with _lock:
        process, _process = _process, None
    if process is not None:
        process.close()


class Lease:
    """One run's use of the measuring process. ``usable()`` once the child is up; ``begin(meter, model)`` hands it
    the run's meter (its warm start included: the readings go on from the ones taken in the loop) and model;
    ``send`` queues a measurement (sent with others: BATCH_S); ``ready()`` gives back the readings so far,
    ``wait()`` all; ``release()`` when the run is left (readings still to come are dropped: each reply carries
    its run's token). A child that fails or dies sets ``error``; what it was sent and did not answer stays in
    ``unanswered``."""

    def __init__(self, process: MeasuringProcess, token: int) -> None:
        self.process, self.token = process, token
        self.started = False
        self.pending = 0
        #: (step, weights, buffers, scale, lr, state) of each measurement sent and not answered yet, in order
        self.unanswered: collections.deque = collections.deque()
        self.error: str | None = None
        self._held: list = []  # measurements not sent yet (the next message carries them)
        self._sent_at = 0.0  # time.monotonic() of the last message

    def usable(self) -> bool:
        return self.error is None and self.process.up() and not self.process.ended

    def begin(self, meter, model) -> None:
        self.started = True
        try:
            message = pickle.dumps(("start", self.token, meter, model), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:  # a model that does not pickle
            self.error = f"the run cannot be measured in another process ({exc})"
            return
        if not self.process.send(message):
            self.error = f"the measuring process ended ({self.process.status()})"

    def send(self, step: int, model, scale, lr: float, state=None) -> None:
        """Queue the measurement of ``model``'s weights now; ``state``: the meter's warm start (vector, count) to
        go on from, when it measured in the loop since the last reading here (None: go on from that reading)."""
        import torch

        with torch.no_grad():  # flat numpy copies: a tenth of pickling the tensors one by one
            weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu().numpy()
            buffers = [b.detach().cpu().numpy().copy() for b in model.buffers()]
        request = (step, weights, buffers, None if scale is None else scale.numpy(), lr, state)
        self.unanswered.append(request)  # kept until its reading is back: measured here if it never is
        self.pending += 1
        self._held.append(request)
        if len(self._held) >= BATCH_MOST or self._due():
            self.flush()

    def _due(self) -> bool:
        """Whether BATCH_S has passed since the last message (what is held goes now)."""
        return time.monotonic() - self._sent_at >= BATCH_S

    def flush(self) -> None:
        """Send the measurements held back, now."""
        if not self._held or self.error is not None:
            return
        message, self._held = ("measure", self.token, self._held), []
        self._sent_at = time.monotonic()
        if not self.process.send(message):
            self.error = f"the measuring process ended ({self.process.status()})"

    def _take(self, block: bool) -> list:
        out = []
        if block or (self._held and self._due()):
            self.flush()
        while self.pending and self.error is None:
            try:
                kind, token, value = self.process.take(ANSWER_S if block else None)
            except queue.Empty:
                if block:  # stuck: ended, and what it did not answer is measured in the loop
                    self.process.kill()
                    self.error = f"the measuring process did not answer in {ANSWER_S:g} s"
                break
            if kind == "ended":
                self.error = f"the measuring process ended ({self.process.status()})"
            elif token != self.token:
                continue  # a reading of a run that was left before it came
            elif kind == "readings":
                for triple in value:
                    self.pending -= 1
                    self.unanswered.popleft()
                    out.append(triple)
            else:
                self.error = value
        return out

    def answered(self) -> bool:
        """Whether ``ready()`` has work: a reply (or the news that the child ended) waits to be taken, or held
        measurements are due to be sent."""
        return bool(self.pending) and (self.process.waiting() or self.process.ended or
                                       (bool(self._held) and self._due()))

    def ready(self) -> list:
        """The (step, reading, meter state) triples back since the last call, without waiting."""
        return self._take(block=False) if self.pending else []

    def wait(self) -> list:
        """Every outstanding (step, reading, meter state) triple, waited for (fewer when the child failed: see
        ``error``)."""
        return self._take(block=True)

    def release(self) -> None:
        global _leased
        with _lock:
            _leased = False


def measure_sent(meter, model, sent: tuple):
    """The reading of one measurement as ``Lease.send`` sends it, (step, weights, buffers, scale, lr, state): the
    weights loaded into ``model`` (a copy of the run's), the meter's warm start set first when given. The child
    measures with it, and the run's own loop with what a failed child did not answer."""
    import torch

    _step, weights, buffers, scale, lr, state = sent
    if state is not None:  # the run measured in its loop meanwhile: go on from its warm start
        meter.set_state(state)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.from_numpy(weights), model.parameters())
        for b, w in zip(model.buffers(), buffers):
            b.copy_(torch.from_numpy(w))
    return meter.measure_scaled(model, None if scale is None else torch.from_numpy(scale), lr)


def serve(inp, out) -> None:
    """The child: the run's meter and a copy of its model; each request measured in order, its reading sent back
    with the run's token."""
    import torch

    torch.set_num_threads(1)
    _send(out, ("ready",))
    model = meter = None
    while True:
        try:
            message = _receive(inp)
        except EOFError:
            return
        token, readings = message[1], []
        try:
            if message[0] == "start":
                _kind, token, meter, model = message
                continue
            for sent in message[2]:  # one reply for the batch: one wake-up of the parent's reader
                readings.append((sent[0], measure_sent(meter, model, sent), meter.state()))
            _send(out, ("readings", token, readings))
        except Exception as exc:  # noqa: BLE001 - every failure goes back as a message
            if readings:  # what it measured before the failure counts
                _send(out, ("readings", token, readings))
            _send(out, ("error", token, f"{type(exc).__name__}: {exc}"))


#: how much the measuring process yields to other processes (os.nice's increment; POSIX)
NICE_ENV, NICE = "VISUALIZER_LAB_NICE", 5


def _lower_priority() -> None:
    try:
        step = int(os.environ.get(NICE_ENV, NICE))
    except ValueError:
        step = NICE
    if step > 0 and hasattr(os, "nice"):
        try:
            os.nice(step)
        except OSError:
            pass


def main() -> None:
    _lower_priority()
    replies = os.fdopen(os.dup(1), "wb")  # the pipe to the parent, kept for the replies alone:
    os.dup2(2, 1)  # whatever else writes to stdout (a library's print) goes to stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
