"""MkDocs hook: the profiling page's timeline picture, drawn at build time from a real run.

The first runnable example of `cookbook/profiling.md` profiles the summation recipe at prefetch
depth 1 and 4 and leaves the jobs in `jobs`; this hook runs that example (its printout, which
the docs tests compare with the page, is discarded here) and adds the picture of both jobs'
timelines (`vc6_bench.profile.timeline_figure`) to the site as `cookbook/profiling-timeline.png`,
so the page's picture always comes from the code the page shows.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from mkdocs.structure.files import File

PAGE = "cookbook/profiling.md"
PICTURE = "cookbook/profiling-timeline.png"
_FIRST_PYTHON = re.compile(r"^```python\n(.*?)^```\n\s*Output:", re.MULTILINE | re.DOTALL)


def _jobs(page: Path) -> dict:
    match = _FIRST_PYTHON.search(page.read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"{page}: no runnable example to draw the timeline from")
    namespace = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(match.group(1), f"docs/{PAGE}", "exec"), namespace)  # noqa: S102 - the page's own example
    return namespace["jobs"]


def picture(docs_dir: Path) -> bytes:
    """The PNG of the profiling page's jobs (depth 1 and 4), as the site shows it."""
    try:
        import matplotlib.pyplot as plt
        from vc6_bench.profile import timeline_figure
    except ImportError as exc:
        raise RuntimeError(f"{PAGE}'s timeline picture needs matplotlib: pip install 'vc6-bench[plot]' ({exc})") from exc
    jobs = _jobs(docs_dir / PAGE)
    fig = timeline_figure({f"prefetch depth {d}, 8 QPUs": job.profile for d, job in jobs.items()})
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=90)
    plt.close(fig)
    return out.getvalue()


def on_files(files, config):
    files.append(File.generated(config, PICTURE, content=picture(Path(config["docs_dir"]))))
    return files
