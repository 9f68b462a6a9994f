"""Compression of a trained run: pruning, quantization, distillation, sensitivity."""
