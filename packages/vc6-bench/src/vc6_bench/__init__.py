"""vc6-bench: benchmark the vc6-kernels routines on the Pi 4 GPU or the emulator, verified against numpy."""

from .cli import main
from .method import bench_routine, check
from .routines import ROUTINES, Problem, Routine
from .sizes import SizeError, parse_count, parse_shape

__all__ = ["ROUTINES", "Problem", "Routine", "SizeError", "bench_routine", "check", "main", "parse_count", "parse_shape"]
