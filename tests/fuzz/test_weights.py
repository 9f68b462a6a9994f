"""Model weights (safetensors) and older run folders (experiment.toml, model.safetensors, trajectory.npz): wrong
names, shapes and dtypes, truncated headers, huge header lengths, injured bytes; each gives the weights (which then
fit the network or are refused) or one line naming the file."""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import COUNTS, FUZZ, HOSTILE, counted, make_hostile, one_line
from tests.fuzz.strategies import damaged_bytes, values
from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import VisualizerError, shown
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model_for
from visualizer.core.model.weights import load_into, load_weights, save_weights
from visualizer.core.runs.loaded import EXPERIMENT_FILE, TRAJECTORY_FILE, WEIGHTS_FILE, load_run

pytestmark = pytest.mark.timeout(120)

EXP = experiment.from_dict({"data": {"name": "moons", "samples": 40}, "model": {"hidden": [3], "batch_norm": True},
                            "train": {"loss": "cross_entropy", "device": "cpu"}})
DATA = load_dataset(EXP.data)


class Quiet(dict):
    """Fixture values shown short in failure reports."""

    def __repr__(self) -> str:
        return "<valid files>"


def network():
    torch.manual_seed(0)
    return build_model_for(EXP.model, DATA, LOSSES[EXP.train.loss])


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    model = network()
    save_weights(model, folder / WEIGHTS_FILE, metadata={"note": "fuzz"})
    n = sum(p.numel() for p in model.parameters())
    buf = io.BytesIO()
    np.savez(buf, params=np.zeros((4, n), np.float32), steps=np.arange(4))
    return Quiet(weights=(folder / WEIGHTS_FILE).read_bytes(), npz=buf.getvalue(),
                 experiment=experiment.dumps(EXP).encode())


def check_weights(path) -> None:
    """Load as the app does: the tensors, loaded into the network or refused; else one line naming the file."""
    try:
        weights = load_weights(path)
    except VisualizerError as exc:
        assert one_line(exc).startswith(str(path))
        return
    assert all(isinstance(t, torch.Tensor) for t in weights.values())
    model = network()
    try:
        load_into(model, weights, f"{path}: the weights do not fit")
    except VisualizerError as exc:
        assert one_line(exc).startswith(str(path))
        return
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, weights[name].to(tensor.dtype))


@st.composite
def rewritten_headers(draw, data: bytes) -> bytes:
    """safetensors bytes whose JSON header has an entry's dtype, shape or offsets (or the whole entry, or the length
    field) replaced by values of any type."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    names = sorted(k for k in header if k != "__metadata__")
    name = draw(st.sampled_from(names))
    field = draw(st.sampled_from(["dtype", "shape", "data_offsets", "entry", "name", "metadata", "length"]))
    value = draw(st.one_of(values, st.sampled_from(["F32", "F64", "I64", "BOOL", "U8", "F8_E4M3", "C64", "x"]),
                           st.lists(st.integers(-2, 2**40), max_size=4)))
    if field == "entry":
        header[name] = value
    elif field == "name":
        header[draw(st.text(max_size=8))] = header.pop(name)
    elif field == "metadata":
        header["__metadata__"] = value
    elif field != "length":
        header[name][field] = value
    try:
        text = json.dumps(header).encode()
    except (RecursionError, ValueError):
        text = b"{" * 3000
    length = len(text) if field != "length" else draw(st.sampled_from([0, 1, 7, 10**12, 2**64 - 1, len(text) + 1]))
    return length.to_bytes(8, "little") + text + body


@FUZZ
@given(data=st.data())
@counted("weights: safetensors bytes")
def test_damaged_safetensors(data, valid, tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / WEIGHTS_FILE
    blob = data.draw(st.one_of(damaged_bytes(valid["weights"]), rewritten_headers(valid["weights"]),
                               damaged_bytes(valid["weights"], start=8)))
    path.write_bytes(blob)
    check_weights(path)


@FUZZ
@given(data=st.data(), part=st.sampled_from([EXPERIMENT_FILE, WEIGHTS_FILE, TRAJECTORY_FILE]))
@counted("weights: older run folders")
def test_damaged_run_folders(data, part, valid, tmp_path_factory):
    folder = tmp_path_factory.mktemp("old_run")
    files = {EXPERIMENT_FILE: valid["experiment"], WEIGHTS_FILE: valid["weights"], TRAJECTORY_FILE: valid["npz"]}
    files[part] = data.draw(damaged_bytes(files[part]))
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    try:
        run = load_run(folder)
        path = run.trajectory()
    except VisualizerError as exc:
        one_line(exc)
        return
    assert path.params.shape[1] == sum(p.numel() for p in run.model.parameters())


@st.composite
def foreign_state(draw):
    """A state dict from elsewhere: the network's names with tensors of other shapes or dtypes, names missing or
    added."""
    state = {k: v.clone() for k, v in network().state_dict().items()}
    name = draw(st.sampled_from(sorted(state)))
    edit = draw(st.sampled_from(["shape", "dtype", "drop", "add", "rename"]))
    if edit == "shape":
        state[name] = torch.zeros(draw(st.lists(st.integers(0, 4), max_size=3)))
    elif edit == "dtype":
        state[name] = state[name].to(draw(st.sampled_from([torch.int64, torch.int8, torch.bool, torch.float16,
                                                           torch.float64, torch.uint8])))
    elif edit == "drop":
        del state[name]
    elif edit == "add":
        state["extra.weight"] = torch.zeros(2)
    else:
        state[name + "x"] = state.pop(name)
    return state


@FUZZ
@given(state=foreign_state())
@counted("weights: names, shapes, dtypes")
def test_weights_of_another_network(state, tmp_path_factory):
    from safetensors.torch import save

    path = tmp_path_factory.mktemp("w") / WEIGHTS_FILE
    path.write_bytes(save({k: v.contiguous() for k, v in state.items()}))
    check_weights(path)


KNOWN = {
    "a header length of 10^12": lambda d: (10**12).to_bytes(8, "little") + d[8:],
    "a header length of 2^64 - 1": lambda d: (2**64 - 1).to_bytes(8, "little") + d[8:],
    "a truncated header": lambda d: d[:20],
    "only the length field": lambda d: d[:8],
    "4 bytes": lambda d: d[:4],
    "a header that is not JSON": lambda d: (5).to_bytes(8, "little") + b"{{{{{" + d[8:],
    "a tensor claiming 10^12 elements": lambda d: d.replace(b"[3,2]", b"[1000000000000,2]", 1),
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_bad_weights(case, valid, tmp_path):
    COUNTS["hand-made"] += 1
    path = tmp_path / WEIGHTS_FILE
    path.write_bytes(KNOWN[case](valid["weights"]))
    with pytest.raises(VisualizerError, match="not a readable safetensors file") as info:
        load_weights(path)
    one_line(info.value)


def test_an_npz_member_claiming_a_huge_array(valid, tmp_path):
    COUNTS["hand-made"] += 1
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / EXPERIMENT_FILE).write_bytes(valid["experiment"])
    (folder / WEIGHTS_FILE).write_bytes(valid["weights"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        head = io.BytesIO()
        np.save(head, np.zeros((1, 3), np.float32))
        z.writestr("params.npy", head.getvalue().replace(b"(1, 3)", b"(1000000, 1000000)"))
    (folder / TRAJECTORY_FILE).write_bytes(buf.getvalue())
    with pytest.raises(VisualizerError, match="not a readable trajectory") as info:
        load_run(folder).trajectory()
    one_line(info.value)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_refused_at_once(kind, valid, tmp_path):
    COUNTS["hand-made"] += 1
    t0 = time.monotonic()
    path = make_hostile(tmp_path, WEIGHTS_FILE, kind)
    with pytest.raises(VisualizerError) as info:
        load_weights(path)
    one_line(info.value)
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / EXPERIMENT_FILE).write_bytes(valid["experiment"])
    make_hostile(folder, WEIGHTS_FILE, kind)
    with pytest.raises(VisualizerError) as info:
        load_run(folder)
    one_line(info.value)
    assert time.monotonic() - t0 < 10


def test_messages_quote_names_short():
    assert len(shown("w" * 10_000)) < 100
