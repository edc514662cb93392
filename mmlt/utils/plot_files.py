"""What mmlt's plot tools (``tools/analysis/plot_*.py``) share: the files
to plot with one label each, and writing the figure."""
import argparse
from pathlib import Path
from typing import Optional, Sequence


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``-o/--out`` (the PNG), ``--title`` and ``--dpi``."""
    parser.add_argument('-o', '--out', required=True, help='PNG to write')
    parser.add_argument('--title')
    parser.add_argument('--dpi', type=int, default=120)


def add_file_arguments(parser: argparse.ArgumentParser, files: str,
                       files_help: str) -> None:
    """The files to plot (positional ``files``), one ``--labels`` each, and
    the output arguments."""
    parser.add_argument(files, nargs='+', help=files_help)
    parser.add_argument('--labels', nargs='+', help='one label per file '
                        '(default: the file names)')
    add_output_arguments(parser)


def file_labels(files: Sequence[str],
                labels: Optional[Sequence[str]]) -> list:
    """``labels``, or the files' names; ValueError unless one per file."""
    labels = list(labels or [Path(p).stem for p in files])
    if len(labels) != len(files):
        raise ValueError(f'{len(labels)} labels for {len(files)} files; '
                         'give one label per file.')
    return labels


def save_figure(fig, out, dpi: int) -> Path:
    """Write a matplotlib figure to ``out`` (its folder made) and close
    it."""
    import matplotlib.pyplot as plt
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
