"""The code of ``tools/demo.py`` (its docstring says what the demo does).

- ``tasks``: the task table, data only: the configs, their order and lanes,
  the frequency files, the tables;
- ``runs``: a lane's runs (train then test, or a post-hoc method on an
  earlier run's checkpoint), whose numbers are the metrics files that
  ``tools/test.py --out`` writes;
- ``in_process``: running a tool of ``tools/`` in this process, its output
  to a log file; ``progress``: the progress shown meanwhile (display only);
- ``scheduler``: the lanes of the chosen tasks, side by side, one process
  and one thread each;
- ``report``: the per-class plots and the tables as text;
- ``cli``: the command line, and the order of it all.
"""
import os.path as osp

# the repository root: the demo runs from it (the configs' paths are
# relative to it)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
