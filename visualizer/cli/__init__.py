"""The `visualizer` command: one module per command, and the parser that registers them."""
