"""DisAlign against the decoupled baselines on LT-Digits, one table per
task, every trained stage 2 over several seeds from one stage-1 checkpoint.

The demo's runs (``tools/demo.py``: stage 1, DisAlign, logit adjustment and
tau-norm with tau chosen on val, cRT, LWS, the cosine variant), with
``--seeds`` (default 0 1 2) for DisAlign, cRT and LWS; post-hoc methods and
stage 1 are deterministic given the stage-1 checkpoint and run once. Every
hyper-parameter was chosen on the val split (the configs say how); the
table is the test split, read once::

    python benchmarks/compare_methods.py                 # classification
    python benchmarks/compare_methods.py --tasks cls seg det

Writes the tables to ``work_dirs/demo/compare_methods.txt`` and the
per-class accuracy plot to ``work_dirs/demo/cls_accuracy.png``. CPU only:
about 10 minutes for classification on 2 cores.
"""
import argparse
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--tasks', nargs='+', default=['cls'],
                        choices=['cls', 'seg', 'det'])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out',
                        default='work_dirs/demo/compare_methods.txt')
    args = parser.parse_args()
    cmd = [sys.executable, 'tools/demo.py', '--tasks', *args.tasks,
           '--seeds', *map(str, args.seeds), '--out', args.out]
    print(' '.join(cmd[1:]), flush=True)
    sys.exit(subprocess.call(cmd, cwd=ROOT))


if __name__ == '__main__':
    main()
