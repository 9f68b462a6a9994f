"""Compression core: loading a run, pruning checked against torch.nn.utils.prune's own masks, shrinking, the pow2 and
b-bit quantizers against hand computations, dynamic int8 against float, sweeps, and previews that leave the original
model alone."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn.utils import prune as torch_prune

from tests.helpers import one_torch_thread, train_run  # noqa: F401  (fixtures)
from visualizer.core.compression.compress import PruneRequest, QuantRequest, compress, parse_prune, parse_quantize
from visualizer.core.compression.measure import linear_modules, scores
from visualizer.core.compression.pruning import (
    PRUNE_METHODS,
    check_amount,
    hidden_widths,
    layer_sparsity,
    make_permanent,
    masks,
    prune,
    prune_model,
    shrink,
)
from visualizer.core.compression.quantization import (
    QUANT_METHODS,
    pow2_quantize,
    quantize,
    quiet_quantization,
    uniform_quantize,
)
from visualizer.core.compression.sensitivity import bits_sweep, curves, pow2_sweep, sparsity_sweep
from visualizer.core.errors import VisualizerError
from visualizer.core.model.nets import MLP, count_parameters, parameter_count
from visualizer.core.runs.loaded import load_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


DIGITS = {"data": {"name": "digits", "val_fraction": 0.2, "seed": 0},
          "model": {"hidden": [32, 16], "activation": "relu"},
          "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 64, "epochs": 3, "seed": 0, "device": "cpu"}}
MOONS_BN = {"data": {"name": "moons", "samples": 300, "seed": 1},
            "model": {"hidden": [8, 6], "activation": "sigmoid", "batch_norm": True, "dropout": 0.1},
            "train": {"optimizer": "adam", "lr": 0.02, "batch_size": 32, "epochs": 2, "seed": 3, "device": "cpu"}}


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory) -> Path:
    return train_run(tmp_path_factory.mktemp("digits"), DIGITS)


@pytest.fixture()
def run(digits_dir):
    return load_run(digits_dir)


@pytest.fixture(scope="module")
def bn_dir(tmp_path_factory) -> Path:
    return train_run(tmp_path_factory.mktemp("moons_bn"), MOONS_BN)


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def fresh_linears(model: nn.Module) -> list[nn.Linear]:
    """Independent copies of the model's Linear layers, for torch's own pruning functions."""
    return [copy.deepcopy(m) for _, _, m in linear_modules(model)]


# ------------------------------------------------------------------------------------------- loading a run


def test_load_run_rebuilds_the_trained_model(run, digits_dir):
    from visualizer.core.model.weights import load_weights

    assert not run.model.training and run.metric_name == "accuracy" and run.eval_set_name == "validation"
    saved = load_weights(digits_dir / "model.safetensors")
    assert set(saved) == set(run.model.state_dict())
    assert all(torch.equal(saved[k], v) for k, v in run.model.state_dict().items())
    assert parameter_count(run.model) == count_parameters(64, [32, 16], 10)
    s = scores(run.model, run)
    assert 0.5 < s.metric <= 1.0 and s.loss > 0


def test_load_run_errors_are_one_line(tmp_path, digits_dir):
    with pytest.raises(VisualizerError, match="no such run folder"):
        load_run(tmp_path / "missing")
    (tmp_path / "no_exp").mkdir()
    with pytest.raises(VisualizerError, match="has no experiment.toml"):
        load_run(tmp_path / "no_exp")
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    (no_weights / "experiment.toml").write_text((digits_dir / "experiment.toml").read_text())
    with pytest.raises(VisualizerError, match="has no model.safetensors: train it with `visualizer run` first") as e:
        load_run(no_weights)
    assert "\n" not in str(e.value)
    save_file({"0.weight": torch.zeros(3, 3)}, str(no_weights / "model.safetensors"))
    with pytest.raises(VisualizerError, match="do not fit the network") as e:
        load_run(no_weights)
    assert "\n" not in str(e.value)
    (no_weights / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(VisualizerError, match="not a readable safetensors file"):
        load_run(no_weights)


# ------------------------------------------------------------------------------------------- pruning


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.9, 0.99])
def test_l1_masks_are_torchs_own(run, amount):
    pruned = prune_model(run.model, "l1", amount)
    ours = masks(pruned)
    for (prefix, _, _), ref in zip(linear_modules(run.model), fresh_linears(run.model)):
        torch_prune.l1_unstructured(ref, "weight", amount=amount)
        assert torch.equal(ours[f"{prefix}.weight"], ref.weight_mask)
    for layer in layer_sparsity(pruned):
        assert layer.zeros == round(amount * layer.total)


@pytest.mark.parametrize("amount", [0.25, 0.7, 0.99])
def test_global_pruning_matches_torch_and_counts(run, amount):
    pruned = prune_model(run.model, "global", amount)
    refs = fresh_linears(run.model)
    torch_prune.global_unstructured([(m, "weight") for m in refs], pruning_method=torch_prune.L1Unstructured,
                                    amount=amount)
    for mask, ref in zip(masks(pruned).values(), refs):
        assert torch.equal(mask, ref.weight_mask)
    layers = layer_sparsity(pruned)
    total = sum(layer.total for layer in layers)
    assert sum(layer.zeros for layer in layers) == round(amount * total)
    # global magnitude: every kept weight is at least as large as every pruned one, across layers
    weights = [m.weight_orig.detach().abs().reshape(-1) for _, _, m in linear_modules(pruned)]
    kept = torch.cat([w[mask.reshape(-1) == 1] for w, mask in zip(weights, masks(pruned).values())])
    gone = torch.cat([w[mask.reshape(-1) == 0] for w, mask in zip(weights, masks(pruned).values())])
    assert kept.min() >= gone.max()


def test_random_pruning_is_seeded_and_leaves_the_global_rng_alone(run):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = masks(prune_model(run.model, "random", 0.4, seed=7))
    assert torch.equal(torch.random.get_rng_state(), before)
    b = masks(prune_model(run.model, "random", 0.4, seed=7))
    c = masks(prune_model(run.model, "random", 0.4, seed=8))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)
    # torch's own random_unstructured under the same seed gives the same masks
    refs = fresh_linears(run.model)
    torch.manual_seed(7)
    for key, ref in zip(a, refs):
        torch_prune.random_unstructured(ref, "weight", amount=0.4)
        assert torch.equal(a[key], ref.weight_mask)
        assert int((a[key] == 0).sum()) == round(0.4 * a[key].numel())


@pytest.mark.parametrize("amount", [0.25, 0.5, 0.99])
def test_structured_prunes_whole_hidden_neurons_by_l2_norm(run, amount):
    pruned = prune_model(run.model, "structured", amount)
    ours = masks(pruned)
    refs = fresh_linears(run.model)
    assert "4.weight" not in ours  # the output layer is never pruned
    for (prefix, _, m), ref in zip(linear_modules(run.model)[:-1], refs):
        torch_prune.ln_structured(ref, "weight", amount=amount, n=2, dim=0)
        mask = ours[f"{prefix}.weight"]
        assert torch.equal(mask, ref.weight_mask)
        dead = (mask == 0).all(dim=1)
        assert int(dead.sum()) == round(amount * m.out_features) and ((mask == 0) == dead[:, None]).all()
        norms = m.weight.detach().norm(dim=1)
        if 0 < int(dead.sum()) < m.out_features:
            assert norms[dead].max() <= norms[~dead].min()


@pytest.mark.parametrize("bad", [-0.1, 1.0, 0.995, float("nan"), "0.5", True, None])
def test_amount_out_of_range_is_refused(run, bad):
    with pytest.raises(VisualizerError, match=r"out of range; allowed: 0 to 0\.99") as e:
        prune_model(run.model, "l1", bad)
    assert repr(bad) in str(e.value)
    assert check_amount(0) == 0.0 and check_amount(0.99) == 0.99


def test_unknown_method_and_structured_without_hidden_layer(run):
    with pytest.raises(VisualizerError, match="'l3' is not known"):
        prune_model(run.model, "l3", 0.5)
    linear = MLP(4, [], [], 3).eval()
    with pytest.raises(VisualizerError, match="no hidden layer"):
        prune_model(linear, "structured", 0.5)


def test_make_permanent_keeps_the_zeros_and_drops_the_masks(run):
    pruned = prune_model(run.model, "l1", 0.6)
    expected = {k: v.detach().clone() for k, v in ((f"{p}.weight", m.weight) for p, _, m in linear_modules(pruned))}
    make_permanent(pruned)
    state = pruned.state_dict()
    assert set(state) == set(run.model.state_dict())  # weight_orig / weight_mask gone
    assert not any(torch_prune.is_pruned(m) for m in pruned.modules())
    for key, w in expected.items():
        assert torch.equal(state[key], w)


def test_previews_never_modify_the_original(run):
    before = state_of(run.model)
    prune(run, "l1", 0.5, latency_repeats=2)
    prune(run, "structured", 0.5, do_shrink=True, latency_repeats=2)
    prune(run, "random", 0.5, latency_repeats=2)
    for method, p in (("pow2", -4), ("bits", 3), ("int8", None)):
        quantize(run, method, p, latency_repeats=2)
    quantize(run, "bits", 4, per_channel=True, latency_repeats=2)
    compress(run, PruneRequest("global", 0.5), QuantRequest("bits", 4), latency_repeats=2)
    list(sparsity_sweep(run, (0.0, 0.5)))
    list(bits_sweep(run, (2, 8)))
    shrink(prune_model(run.model, "structured", 0.5))
    after = run.model.state_dict()
    assert set(after) == set(before) and all(torch.equal(before[k], after[k]) for k in before)
    assert not any(torch_prune.is_pruned(m) for m in run.model.modules())
    assert not run.model.training


def test_shrink_gives_the_masked_outputs_with_fewer_parameters(run):
    X, _ = run.eval_tensors()
    masked = prune_model(run.model, "structured", 0.5)
    small = shrink(masked)
    assert hidden_widths(small) == (16, 8)
    assert parameter_count(small) == count_parameters(64, [16, 8], 10)
    with torch.no_grad():
        torch.testing.assert_close(small(X), masked(X), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "gelu"])
def test_shrink_folds_dead_neurons_through_batch_norm_and_any_activation(activation):
    """A dead neuron still outputs activation(batch_norm(bias)) (sigmoid(0) = 0.5): shrink adds it to the next bias."""
    torch.manual_seed(0)
    model = MLP(5, [8, 6], [activation, activation], 3, dropout=0.2, batch_norm=True).eval()
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.weight.normal_()
                m.bias.normal_()
    masked = prune_model(model, "structured", 0.5)
    small = shrink(masked)
    assert hidden_widths(small) == (4, 3)
    assert [m.num_features for m in small if isinstance(m, nn.BatchNorm1d)] == [4, 3]
    X = torch.randn(50, 5)
    with torch.no_grad():
        torch.testing.assert_close(small(X), masked(X), atol=1e-5, rtol=1e-5)


def test_shrink_of_a_trained_batch_norm_run(bn_dir):
    bn_run = load_run(bn_dir)
    X, _ = bn_run.eval_tensors()
    result = prune(bn_run, "structured", 0.5, do_shrink=True, latency_repeats=3)
    assert result.report.shrunk.hidden == (4, 3)
    assert result.report.shrunk.after.metric == pytest.approx(result.report.after.metric)
    with torch.no_grad():
        torch.testing.assert_close(result.shrunk(X), result.masked(X), atol=1e-5, rtol=1e-5)


def test_prune_report_figures(run):
    result = prune(run, "structured", 0.5, do_shrink=True, latency_repeats=5)
    r = result.report
    assert r.before == scores(run.model, run) and r.after == scores(result.permanent, run)
    assert [layer.zeros for layer in r.layers] == [16 * 64, 8 * 32, 0]
    assert r.sparsity == pytest.approx((16 * 64 + 8 * 32) / (64 * 32 + 32 * 16 + 16 * 10))
    assert r.parameters == parameter_count(run.model) and r.bytes_dense == 4 * r.parameters
    assert r.nonzero_parameters == r.parameters - r.zeros
    assert r.shrunk.parameters == count_parameters(64, [16, 8], 10) and r.shrunk.bytes == 4 * r.shrunk.parameters
    assert r.latency_dense_s > 0 and r.latency_pruned_s > 0 and r.shrunk.latency_s > 0
    d = r.to_dict()
    assert d["total"]["zeros"] == r.zeros and d["shrunk"]["hidden"] == [16, 8] and "accuracy" in d["after"]


# ------------------------------------------------------------------------------------------- quantization


def test_pow2_against_a_hand_computation():
    w = torch.tensor([[0.30, -0.70, 0.05], [1.23, -0.02, 0.50]])
    # k = -2, step 1/4: 0.30/0.25 = 1.2 -> 1; -2.8 -> -3; 0.2 -> 0; 4.92 -> 5; -0.08 -> 0; 2 -> 2
    assert torch.equal(pow2_quantize(w, -2), torch.tensor([[0.25, -0.75, 0.0], [1.25, 0.0, 0.5]]))
    # k = -4, step 1/16: 4.8 -> 5; -11.2 -> -11; 0.8 -> 1; 19.68 -> 20; -0.32 -> 0; 8 -> 8
    assert torch.equal(pow2_quantize(w, -4), torch.tensor([[5 / 16, -11 / 16, 1 / 16], [20 / 16, 0.0, 8 / 16]]))
    # k = 1, step 2: 0.15 -> 0; -0.35 -> 0; 0.025 -> 0; 0.615 -> 1; -0.01 -> 0; 0.25 -> 0
    assert torch.equal(pow2_quantize(w, 1), torch.tensor([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]))


def test_b_bit_against_a_hand_computation():
    w = torch.tensor([[-1.5, 0.2, 0.3, 0.74], [0.6, -0.1, 0.45, 0.0]])
    # b = 3: qmax = 3; per tensor scale = 1.5 / 3 = 0.5
    # q = round(w / 0.5) = [[-3, 0.4->0, 0.6->1, 1.48->1], [1.2->1, -0.2->0, 0.9->1, 0]]
    wq, scale = uniform_quantize(w, 3)
    assert torch.equal(scale, torch.tensor([0.5]))
    assert torch.equal(wq, torch.tensor([[-1.5, 0.0, 0.5, 0.5], [0.5, 0.0, 0.5, 0.0]]))
    # per channel: row 0 scale 0.5 as above; row 1 scale 0.6 / 3 = 0.2, which binary cannot hold: it is rounded up
    # to 16 significant bits, 0.2 = 0.8 * 2^-2 -> ceil(0.8 * 2^16) / 2^16 * 2^-2 = 52429 * 2^-18 = 0.200000762939...
    # q row 1 = round([2.99999, -0.49999, 2.24999, 0]) = [3, 0, 2, 0]
    wq, scale = uniform_quantize(w, 3, per_channel=True)
    s1 = 52429 * 2.0 ** -18
    assert torch.equal(scale, torch.tensor([0.5, s1]))
    assert torch.equal(wq, torch.tensor([[-1.5, 0.0, 0.5, 0.5], [3 * s1, 0.0, 2 * s1, 0.0]]))
    assert wq[1, 0].item() == pytest.approx(0.6, abs=1e-5) and wq[1, 2].item() == pytest.approx(0.4, abs=1e-5)
    # b = 2: qmax = 1, scale 1.5: q = round([-1, 0.133, 0.2, 0.493], [0.4, -0.067, 0.3, 0]) -> only -1 survives
    wq, _ = uniform_quantize(w, 2)
    assert torch.equal(wq, torch.tensor([[-1.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    # b = 8: qmax = 127, every weight within half a step of its original
    wq, scale = uniform_quantize(w, 8)
    assert (wq - w).abs().max() <= scale / 2 + 1e-7
    # an all-zero tensor keeps its zeros
    assert torch.equal(uniform_quantize(torch.zeros(2, 3), 4)[0], torch.zeros(2, 3))


@pytest.mark.parametrize(("method", "parameter", "per_channel"),
                         [("pow2", -4, False), ("pow2", -7, False), ("bits", 2, False), ("bits", 4, True),
                          ("bits", 8, False), ("bits", 8, True)])
def test_quantized_weights_lie_exactly_on_their_grid(run, method, parameter, per_channel):
    result = quantize(run, method, parameter, per_channel=per_channel, latency_repeats=2)
    for layer, (_, _, m) in zip(result.report.layers, linear_modules(result.model)):
        step = torch.tensor(layer.steps, dtype=torch.float64).reshape(-1, 1)
        q = m.weight.detach().double() / step
        assert (q - q.round()).abs().max() <= 1e-6  # in fact exactly 0: the steps have at most 16 significant bits
        if method == "bits":
            assert q.abs().max() <= 2 ** (parameter - 1) - 1
            assert layer.bits == parameter
        else:
            assert layer.steps == (2.0 ** parameter,) and layer.bits == 1 + int(q.abs().max()).bit_length()
        assert layer.max_abs_error <= layer.steps[0] / 2 + 1e-7 if len(layer.steps) == 1 else True
        assert 0 <= layer.rms_error <= layer.max_abs_error


def test_quantization_report_sizes(run):
    r = quantize(run, "bits", 4, latency_repeats=2).report
    # per layer: ceil(weights * 4 / 8) + one float32 scale + float32 biases
    assert [layer.bytes for layer in r.layers] == [64 * 32 // 2 + 4 + 4 * 32, 32 * 16 // 2 + 4 + 4 * 16,
                                                   16 * 10 // 2 + 4 + 4 * 10]
    assert r.bytes == sum(layer.bytes for layer in r.layers) and r.bytes_float == 4 * parameter_count(run.model)
    assert r.before == scores(run.model, run) and r.latency_float_s is None
    per_channel = quantize(run, "bits", 4, per_channel=True, latency_repeats=2).report
    assert per_channel.layers[0].bytes == 64 * 32 // 2 + 4 * 32 + 4 * 32 and len(per_channel.layers[0].steps) == 32


def emulate_dynamic_int8(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Dynamic int8 by hand: before each Linear layer the input is quantized per tensor to unsigned integers over
    [min(x, 0), max(x, 0)] (7 bits on the x86/fbgemm engines, which reduce the range; 8 bits otherwise), then
    multiplied by the dequantized int8 weights, plus the float bias."""
    qmax = 127 if torch.backends.quantized.engine in ("x86", "fbgemm") else 255
    h = X
    with torch.no_grad(), quiet_quantization():
        for m in model:
            if not hasattr(m, "weight") or not callable(m.weight):
                h = m(h)
                continue
            lo, hi = min(float(h.min()), 0.0), max(float(h.max()), 0.0)
            scale = (hi - lo) / qmax
            zero = min(max(round(-lo / scale), 0), qmax)
            hq = (torch.clamp(torch.round(h / scale) + zero, 0, qmax) - zero) * scale
            h = hq @ m.weight().dequantize().T + m.bias()
    return h


def int8_error_bound(step: float, w: torch.Tensor) -> float:
    """The largest |dequantize(quantize(w)) - w| that torch's float32 int8 kernels may give, on any CPU.

    The kernel computes q = round(w * (1/step)) in float32: the reciprocal and the product each round by at most
    2^-24 relative, which can move w/step by up to 2 * 2^-24 * max|w|/step before rounding, so a value near a
    half-way point may round away; dequantizing q * step rounds by another 2^-24 * max|q| * step. Vectorised kernels
    (AVX2, AVX-512, NEON) differ in which of these roundings they make, never in more of them."""
    eps = 2.0 ** -24
    biggest = float(w.detach().abs().max())
    return step / 2 + 3 * eps * biggest + eps * (biggest + step)


@pytest.mark.parametrize("per_channel", [False, True])
def test_int8_dynamic_matches_a_hand_emulation_and_is_close_to_float(run, per_channel):
    """The int8 model computes what dynamic quantization by hand computes (max difference below 1e-3 of the largest
    logit). Tolerance against float32: the logits' RMS difference is below 15% of their RMS and the predicted class
    agrees on at least 95% of the validation samples; on digits most of the error comes from quantizing the inputs
    (standardized pixels that are almost constant in training reach 50 standard deviations and set the step)."""
    result = quantize(run, "int8", per_channel=per_channel, latency_repeats=5)
    X, _ = run.eval_tensors()
    with torch.no_grad(), quiet_quantization():
        z, zq = run.model(X), result.runtime(X)
    assert (zq - emulate_dynamic_int8(result.runtime, X)).abs().max() <= 1e-3 * z.abs().max()
    assert torch.sqrt(torch.mean((zq - z) ** 2)) <= 0.15 * torch.sqrt(torch.mean(z ** 2))
    assert (zq.argmax(1) == z.argmax(1)).float().mean() >= 0.95
    r = result.report
    with quiet_quantization():
        for layer, (prefix, _, m) in zip(r.layers, linear_modules(run.model)):
            qw = result.runtime.get_submodule(prefix).weight()
            assert torch.equal(result.model.get_submodule(prefix).weight.detach(), qw.dequantize())
            assert layer.max_abs_error <= int8_error_bound(max(layer.steps), m.weight)
            assert layer.bits == 8 and len(layer.steps) == (m.out_features if per_channel else 1)
    assert r.serialized_bytes < r.serialized_bytes_float and r.bytes < r.bytes_float / 3
    assert r.latency_float_s > 0 and r.latency_quantized_s > 0
    assert abs(r.after.metric - r.before.metric) <= 0.05


@pytest.mark.parametrize(("method", "parameter", "per_channel", "message"),
                         [("bits", 1, False, "bits = 1 is out of range; allowed: integers from 2 to 8"),
                          ("bits", 9, False, "bits = 9 is out of range"),
                          ("pow2", 20, False, "k = 20 is out of range; allowed: integers from -16 to 8"),
                          ("pow2", -4, True, "per-channel quantization applies only to 'bits' or 'int8'"),
                          ("int4", None, False, "'int4' is not known")])
def test_bad_quantization_requests(run, method, parameter, per_channel, message):
    with pytest.raises(VisualizerError, match=message):
        quantize(run, method, parameter, per_channel=per_channel)


# ------------------------------------------------------------------------------------------- prune, then quantize


def test_compress_prunes_then_quantizes(run):
    result = compress(run, PruneRequest("l1", 0.5), QuantRequest("bits", 4), latency_repeats=3)
    pruned = masks(prune_model(run.model, "l1", 0.5))
    for key, mask in pruned.items():
        w = result.model.state_dict()[key]
        assert (w[mask == 0] == 0).all()  # pruned weights stay exactly zero after quantization
    r = result.report
    assert [layer["zeros"] >= round(0.5 * layer["weights"]) for layer in r["layers"]] == [True] * 3
    assert r["after"]["accuracy"] == pytest.approx(scores(result.runtime, run).metric)
    assert r["before"]["accuracy"] == pytest.approx(scores(run.model, run).metric)
    assert r["total"]["bytes"] < r["total"]["float_bytes"] / 4
    assert set(r["steps"]) == {"prune", "quantize"} and r["latency_s"]["before"] > 0


def test_compress_with_shrink_reports_the_smaller_network(run):
    result = compress(run, PruneRequest("structured", 0.5), None, shrink=True, latency_repeats=3)
    assert result.experiment.model.hidden == (16, 8)
    assert result.report["total"]["parameters"] == count_parameters(64, [16, 8], 10)


@pytest.mark.parametrize(("text", "expected"), [("l1:0.5", PruneRequest("l1", 0.5)),
                                                ("global:30%", PruneRequest("global", 0.3)),
                                                ("structured:0", PruneRequest("structured", 0.0)),
                                                ("random:99%", PruneRequest("random", 0.99))])
def test_parse_prune(text, expected):
    assert parse_prune(text) == expected


@pytest.mark.parametrize("text", ["l1", "l1:", "prune:abc", "l1:abc", "l1:1.0", "l1:100%", "l1:-5%", "magic:0.5"])
def test_parse_prune_refuses(text):
    with pytest.raises(VisualizerError, match=r"--prune"):
        parse_prune(text)


@pytest.mark.parametrize(("text", "expected"), [("pow2:-4", QuantRequest("pow2", -4)),
                                                ("bits:2", QuantRequest("bits", 2)),
                                                ("int8", QuantRequest("int8", None))])
def test_parse_quantize(text, expected):
    assert parse_quantize(text) == expected


@pytest.mark.parametrize("text", ["bits:9", "bits:1", "bits:x", "bits", "pow2:-17", "pow2:0.5", "int8:8", "fp16"])
def test_parse_quantize_refuses(text):
    with pytest.raises(VisualizerError, match=r"--quantize"):
        parse_quantize(text)


# ------------------------------------------------------------------------------------------- sweeps and registries


def test_sparsity_sweep_yields_progress_and_matches_single_prunes(run):
    amounts = (0.0, 0.5, 0.9)
    seen = list(sparsity_sweep(run, amounts))
    n = (len(linear_modules(run.model)) + 1) * len(amounts)
    assert [p.i for p in seen] == list(range(1, n + 1)) and all(p.n == n for p in seen)
    by_curve = curves([p.point for p in seen])
    assert list(by_curve) == [name for _, name, _ in linear_modules(run.model)] + ["global"]
    original = scores(run.model, run).metric
    for xs, ys in by_curve.values():
        assert list(xs) == list(amounts) and ys[0] == pytest.approx(original)
    assert by_curve["global"][1][2] == pytest.approx(prune(run, "global", 0.9, latency_repeats=1).report.after.metric)


def test_sweeps_can_be_cancelled_by_not_iterating(run):
    sweep = sparsity_sweep(run, (0.1, 0.2, 0.3))
    first = next(sweep)
    sweep.close()
    assert first.i == 1 and first.n == 12
    assert next(iter(pow2_sweep(run, (-4,)))).point.curve == "pow2"


def test_bits_sweep(run):
    points = [p.point for p in bits_sweep(run, (2, 8), per_channel=True)]
    assert [p.x for p in points] == [2.0, 8.0] and points[0].curve == "bits per channel"
    assert points[1].metric == pytest.approx(scores(run.model, run).metric, abs=0.02)


def test_registries_describe_every_method():
    for info in PRUNE_METHODS.values():
        assert info.label and info.description
    for info in QUANT_METHODS.values():
        assert info.label and info.formula and info.description
        if info.parameter:
            assert info.minimum <= info.default <= info.maximum
    assert math.isclose(QUANT_METHODS["pow2"].default, -4)


def test_weight_arrays_for_histograms(run):
    from visualizer.core.compression.measure import weight_arrays

    arrays = weight_arrays(prune_model(run.model, "l1", 0.5))
    assert list(arrays) == [name for _, name, _ in linear_modules(run.model)]
    assert all(a.ndim == 1 and (a == 0).mean() == 0.5 for a in arrays.values())
