"""The Qt-free engine: experiments, data, networks, optimizers, losses, the training session. Never imports Qt."""
