"""The sweep window (Run > Sweep…) and the map plot it shares with `visualizer sweep`."""
