"""Write the tutorial notebooks (``notebooks/*.ipynb``) from their sources in ``notebooks/_src/``.

The sources are plain Python in the "percent" format (``# %%`` starts a code cell,
``# %% [markdown]`` a markdown cell whose lines start with ``# ``), so a change to a tutorial is
a readable diff and the notebooks are always stored without outputs. Run after editing a source::

    python notebooks/_build.py           # rewrite every notebook
    python notebooks/_build.py --check   # exit 1 if a notebook is out of date (the tests do this)

Only the standard library and nbformat are needed; the output is deterministic (fixed cell ids).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_src"

_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def cells_of(source: str) -> list[tuple[str, str]]:
    """``[(kind, text)]`` of a percent-format source; kind is "code" or "markdown"."""
    cells: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        match = _MARKER.match(line)
        if match:
            cells.append(("markdown" if match["markdown"] else "code", []))
        elif cells:
            kind, lines = cells[-1]
            if kind == "markdown":
                if line and not line.startswith("#"):
                    raise ValueError(f"a markdown cell line must start with '#': {line!r}")
                line = line[2:] if line.startswith("# ") else line[1:]
            lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def notebook_of(source: str) -> nbformat.NotebookNode:
    """The notebook (no outputs, fixed cell ids) for one percent-format source."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for number, (kind, text) in enumerate(cells_of(source), 1):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(text)
        cell.id = f"cell-{number:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def rendered(source_path: Path) -> str:
    """The .ipynb text for one source, exactly as it is written to disk."""
    return nbformat.writes(notebook_of(source_path.read_text(encoding="utf-8"))) + "\n"


def targets() -> dict[Path, Path]:
    """Each source and the notebook it makes (``_src/01-x.py`` -> ``01-x.ipynb``)."""
    return {src: HERE / f"{src.stem}.ipynb" for src in sorted(SOURCES.glob("[0-9]*.py"))}


def stale() -> list[Path]:
    """Notebooks that are missing or differ from what their source makes."""
    return [
        nb_path
        for src, nb_path in targets().items()
        if not nb_path.exists() or nb_path.read_text(encoding="utf-8") != rendered(src)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"out of date: {path.relative_to(HERE.parent)} (run: python notebooks/_build.py)")
        return 1 if out_of_date else 0
    for src, nb_path in targets().items():
        nb_path.write_text(rendered(src), encoding="utf-8")
        print(f"wrote {nb_path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
