"""The two backends behind a Device: the DRM render node and the software emulation of it."""
