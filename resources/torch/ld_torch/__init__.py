"""LD Studio's PyTorch engine: the Local Discrimination model (Chen et al., TPAMI 2023) trained as a
child process of the app. The contract with the Node side is ../PROTOCOL.md."""

__version__ = "0.1.0"
