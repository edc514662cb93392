"""The mmlt demo: long-tailed recognition end to end on LT-Digits.

It builds the data (real MNIST digits in the layouts of ImageNet-LT, LVIS v1
and ADE20K). For each DisAlign task (seg, det, cls) it computes the class
frequencies with ``tools/analysis/class_frequency.py``, trains stage 1 and
DisAlign stage 2 with ``tools/train.py``, tests both with ``tools/test.py``,
and prints a table. Classification also compares the decoupled baselines
from the same stage-1 checkpoint: logit adjustment and tau-norm (post hoc,
tau chosen on the val split with ``tools/analysis/choose_tau.py``, then
tested once), cRT and LWS (trained like DisAlign stage 2); detection and
segmentation the baselines that apply to them. For DeiT-LT (deit) it trains
and tests the CNN teacher, the distilled student with the teacher in the
loop, a plain DeiT on the same data and schedule, and the plain DeiT with
logit adjustment, and prints the CLS / DIST / average accuracy, overall and
many / medium / few. Everything runs on a CPU.

    python tools/demo.py                  # every task
    python tools/demo.py --tasks seg      # one task
    python tools/demo.py --tasks cls --seeds 0 1 2   # stage 2 over 3 seeds

With ``--seeds``, every trained stage 2 (DisAlign, cRT, LWS) runs once per
seed from the same stage-1 checkpoint and the table shows mean +- std
(``benchmarks/compare_methods.py`` runs that and writes the table).

The runs of a task form lanes, chains where each run starts from the one
before (stage 2 from stage 1): cls and its cosine variant, deit's student
and its plain DeiT, seg, det. Lanes run side by side (``--jobs``, default
the number of cores), each in its own process with one thread, so that the
numbers do not depend on the machine's core count. A lane runs its tools
(``tools/train.py``, ``tools/test.py``, ``tools/analysis/choose_tau.py``)
in its own process, one after the other, as ``__main__``: the toolboxes are
imported once per lane, not once per run.

Each tool's output goes to a log file in its work dir; while a model trains or
tests, the demo shows its progress (epoch or iteration, time left) from
mmengine's log lines: in place on a terminal with one lane at a time, else a
line every 15 s. The tables' numbers are read from the metrics files
that ``tools/test.py --out`` writes, not from the logs.

The code is in ``tools/demo/`` (its ``__init__`` lists the modules); the
table of tasks, runs and tables is ``tools/demo/tasks.py``.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # mmlt
# the package tools/demo/: this script's folder is on sys.path, and there a
# package wins over the module demo.py of the same name
from demo.cli import main  # noqa: E402

if __name__ == '__main__':
    main(__doc__.split('\n')[0])
