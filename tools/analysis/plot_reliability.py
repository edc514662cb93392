"""Draw reliability diagrams, one panel per file of
``mmlt.core.calibration_error.write_reliability``: the accuracy of each
confidence bin as a bar, the diagonal of perfect calibration, and the ECE
(in %) in the legend::

    python tools/analysis/plot_reliability.py \\
        work_dirs/demo/stage1_reliability.json \\
        work_dirs/demo/disalign_reliability.json --labels stage1 DisAlign \\
        -o work_dirs/demo/reliability.png
"""
import argparse
import sys
from pathlib import Path

try:
    import mmlt  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmlt.core.calibration_error import read_reliability  # noqa: E402
from mmlt.utils.plot_files import (add_file_arguments,  # noqa: E402
                                   file_labels, save_figure)


def plot(paths, labels, out, title=None, dpi=120) -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    results = [read_reliability(p) for p in paths]
    fig, axes = plt.subplots(1, len(paths), figsize=(4 * len(paths), 4.2),
                             squeeze=False)
    for ax, result, label in zip(axes[0], results, labels):
        width = result['upper'] - result['lower']
        filled = result['count'] > 0
        ax.bar(result['lower'][filled], result['accuracy'][filled],
               width=width[filled], align='edge', edgecolor='black',
               lw=0.5, color='C0', label=f'accuracy (ECE '
               f'{result["ece"]:.2f}%)')
        ax.plot([0, 1], [0, 1], 'k--', lw=1, label='perfect calibration')
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect('equal')
        ax.set_xlabel('confidence')
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=8, loc='upper left')
    axes[0][0].set_ylabel('accuracy')
    fig.suptitle(title or 'reliability diagram', fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out, dpi)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Reliability diagrams of write_reliability JSON files.')
    add_file_arguments(parser, 'files', 'reliability .json files')
    return parser.parse_args(argv)


def main(argv=None) -> Path:
    args = parse_args(argv)
    labels = file_labels(args.files, args.labels)
    out = plot(args.files, labels, args.out, args.title, args.dpi)
    print(f'wrote {out}')
    return out


if __name__ == '__main__':
    main()
