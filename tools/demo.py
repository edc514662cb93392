"""The mmlt demo: long-tailed recognition end to end on LT-Digits.

It builds the data (real MNIST digits in the layouts of ImageNet-LT, LVIS v1
and ADE20K). For each DisAlign task (seg, det, cls) it computes the class
frequencies with ``tools/analysis/class_frequency.py``, trains stage 1 and
DisAlign stage 2 with ``tools/train.py``, tests both with ``tools/test.py``,
and prints a before/after table. For DeiT-LT (deit) it trains and tests the
CNN teacher, the distilled student with the teacher in the loop, and a plain
DeiT on the same data and schedule, and prints the CLS / DIST / average
accuracy, overall and many / medium / few. Everything runs on a CPU.

    python tools/demo.py                  # every task
    python tools/demo.py --tasks seg      # one task

Each tool's output goes to a log file in its work dir; while a model trains or
tests, the demo shows its progress (epoch or iteration, time left) from
mmengine's log lines: in place on a terminal, else a line every 15 s.
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmlt.lt_digits import make_lt_digits  # noqa: E402

DATA = 'data/lt_digits'
WORK = 'work_dirs/demo'


def seg_frequency():
    """Per-pixel class frequencies of the segmentation train labels."""
    out = f'{DATA}/seg/pixel_frequency.json'
    return out, [
        'seg', f'{DATA}/seg/annotations/training', '--num-classes', '11',
        '--reduce-zero-label', '--classes', f'{DATA}/seg/classes.txt', '-o',
        out
    ]


def cls_frequency():
    """Training images per class of the classification list."""
    out = f'{DATA}/cls/image_frequency.json'
    return out, [
        'list', f'{DATA}/cls/lt_digits_train.txt', '--classes',
        f'{DATA}/cls/classes.txt', '-o', out
    ]


def det_frequency():
    """Images per category of the LVIS-format train json (LVIS's own
    image_count, the default of the frequency tool)."""
    out = f'{DATA}/det/lvis_v1_train_frequency.json'
    return out, ['lvis', f'{DATA}/det/annotations/lvis_v1_train.json', '-o', out]


def plot_cls(metrics_files):
    """Per-class accuracy against training frequency, before and after."""
    out = f'{WORK}/cls_accuracy.png'
    run([sys.executable, 'tools/analysis/plot_class_accuracy.py', 'accuracy',
         *metrics_files, '--labels', 'stage 1', 'DisAlign stage 2',
         'cosine stage 1', 'DisAlign* (cosine) stage 2',
         '--frequency', f'{DATA}/cls/image_frequency.json', '-o', out],
        f'{ROOT}/{WORK}/cls_plot.log')
    print(f'[cls] per-class accuracy plot: {out}')


def load_stage1(name, variant=''):
    """Stage 2 starts from stage 1's last checkpoint."""
    return lambda: [
        f'load_from={last_checkpoint(f"{WORK}/{name}_stage1{variant}")}']


def disalign_task(name, title, rows, **extra):
    """Stage 1, then DisAlign stage 2 from its checkpoint; a before/after
    table of ``rows`` (label, key in tools/test.py's metrics)."""
    return dict(
        title=title,
        runs=[('stage1', f'configs/demo/{name}_stage1.py', None),
              ('stage2', f'configs/demo/{name}_stage2.py', load_stage1(name))],
        columns=[('stage 1', 'stage1', ''), ('DisAlign', 'stage2', '')],
        rows=rows,
        **extra)


def deit_teacher():
    """The student distils from the teacher trained just before."""
    return [f'model.teacher.checkpoint='
            f'{last_checkpoint(f"{WORK}/deit_teacher")}']


# Each task: its runs (name, config, extra --cfg-options), the frequency file
# its losses read, and its table: columns (label, run, metric prefix) and
# rows (label, metric key after the prefix).
TASKS = {
    'seg':
    disalign_task(
        'seg',
        'Semantic segmentation: FCN (ResNet-18/16) + DisAlign, LT-Digits val',
        frequency=seg_frequency,
        rows=[('mIoU', 'mIoU'), ('mAcc', 'mAcc'),
              ('mIoU head (background)', 'mIoU_head'),
              ('mIoU body (digits 0-4)', 'mIoU_body'),
              ('mIoU tail (digits 5-9)', 'mIoU_tail'),
              ('mAcc head', 'mAcc_head'), ('mAcc body', 'mAcc_body'),
              ('mAcc tail', 'mAcc_tail')]),
    'det':
    disalign_task(
        'det',
        'Detection and instance segmentation: Mask R-CNN (ResNet-18/4) + '
        'DisAlign, LT-Digits val (LVISMetric, AP in %)',
        frequency=det_frequency,
        # LVIS's rare / common / frequent split by train images per
        # category: 1-10 / 11-100 / > 100
        rows=[(f'{kind} {ap}', f'lvis/{key}_{ap}')
              for kind, key in (('box', 'bbox'), ('mask', 'segm'))
              for ap in ('AP', 'APr', 'APc', 'APf')],
        scale=100),  # LVISMetric reports fractions
    'cls':
    dict(
        title='Classification: ResNet-8 + DisAlign, dot-product and cosine '
        'classifiers, LT-Digits test, top-1 %',
        runs=[('stage1', 'configs/demo/cls_stage1.py', None),
              ('stage2', 'configs/demo/cls_stage2.py', load_stage1('cls')),
              ('stage1_cosine', 'configs/demo/cls_stage1_cosine.py', None),
              ('stage2_cosine', 'configs/demo/cls_stage2_cosine.py',
               load_stage1('cls', '_cosine'))],
        columns=[('stage 1', 'stage1', ''), ('DisAlign', 'stage2', ''),
                 ('cos st. 1', 'stage1_cosine', ''),
                 ('DisAlign*', 'stage2_cosine', '')],
        frequency=cls_frequency,
        after=plot_cls,
        rows=[('top-1', 'lt/top1'), ('many (> 100 images)', 'lt/many'),
              ('medium (20-100)', 'lt/medium'), ('few (< 20)', 'lt/few')]),
    'deit':
    dict(
        title='DeiT-LT: tiny ViT student, ResNet-8 teacher (LDAM + DRW + '
        'SAM), LT-Digits test, top-1 %',
        runs=[('teacher', 'configs/demo/deit_teacher.py', None),
              ('student', 'configs/demo/deit_student.py', deit_teacher),
              ('plain', 'configs/demo/deit_plain.py', None)],
        columns=[('teacher', 'teacher', 'lt/'),
                 ('plain DeiT', 'plain', 'lt/'),
                 ('LT CLS', 'student', 'lt_cls/'),
                 ('LT DIST', 'student', 'lt_dist/'),
                 ('LT avg', 'student', 'lt_avg/')],
        rows=[('overall', 'top1'), ('many (digits 0-2)', 'many'),
              ('medium (3-6)', 'medium'), ('few (7-9)', 'few')]),
}


# mmengine's progress lines: 'Epoch(train)  [3][10/32]  ... eta: 0:00:37',
# 'Iter(train) [350/900]  ...', 'Epoch(test) [10/25]  ...'
PROGRESS = re.compile(r'(?:Epoch|Iter)\((train|val|test)\)\s*'
                      r'(?:\[\s*(\d+)\])?\[\s*(\d+)/(\d+)\]'
                      r'(?:.*?eta: ((?:\d+ days?, )?\S+))?')
VERB = dict(train='training', val='validating', test='testing')


class Progress:
    """Shows a run's progress: one line updated in place on a terminal,
    else a new line at most every ``every`` seconds."""

    def __init__(self, prefix, max_epochs=None, every=15):
        self.prefix, self.max_epochs, self.every = prefix, max_epochs, every
        self.tty = sys.stdout.isatty()
        self.last = self.shown = None

    def update(self, line):
        match = PROGRESS.search(line)
        if match is None:
            return
        mode, epoch, done, total, eta = match.groups()
        text = f'{self.prefix}: {VERB[mode]}'
        if epoch is not None:
            of = f'/{self.max_epochs}' if self.max_epochs else ''
            text += f' epoch {epoch}{of}, batch {done}/{total}'
        else:
            text += f' {"iteration" if mode == "train" else "batch"} ' \
                    f'{done}/{total}'
        if eta is not None:
            text += f', {eta} left'
        if self.tty:
            print(f'\r\033[K{text}', end='', flush=True)
            self.shown = text
        elif self.last is None or time.time() - self.last >= self.every:
            print(text, flush=True)
            self.last = time.time()

    def close(self):
        if self.tty and self.shown:
            print(flush=True)  # keep the last state on its own line


def run(cmd, log_path, progress=None):
    """Run a tool, its output to a log file (and its progress lines to
    ``progress``); fail loudly with the log tail."""
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log_path, 'w', buffering=1) as log:  # line by line
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                errors='replace', env=env)
        for line in proc.stdout:
            log.write(line)
            if progress is not None:
                progress.update(line)
        returncode = proc.wait()
    if progress is not None:
        progress.close()
    if returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        sys.exit(f'{" ".join(cmd)} failed (exit {returncode}); '
                 f'end of {log_path}:\n{tail}')


def max_epochs(config):
    """The epochs of an epoch-based config (None for iteration-based ones,
    whose log lines carry the total)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config), import_custom_modules=False)
    return cfg.train_cfg.get('max_epochs')


def last_checkpoint(work_dir):
    with open(osp.join(ROOT, work_dir, 'last_checkpoint')) as f:
        # relative to the work dir (mmlt's SafeCheckpointHook) or absolute
        return osp.join(work_dir, f.read().strip())


def train_and_test(name, task):
    """Train and test each run of a task; its test metrics by run."""
    python = sys.executable
    metrics, files = {}, []
    for run_name, config, options in task['runs']:
        work_dir = f'{WORK}/{name}_{run_name}'
        cmd = [python, 'tools/train.py', config, '--work-dir', work_dir,
               '--overwrite']  # the demo's own earlier run
        if options is not None:
            cmd += ['--cfg-options', *options()]
        start = time.time()
        prefix = f'[{name}] {run_name}'
        print(f'{prefix}: {" ".join(cmd[1:])}', flush=True)
        run(cmd, f'{ROOT}/{work_dir}/demo_train.log',
            Progress(prefix, max_epochs(config)))
        out = f'{work_dir}/test_metrics.json'
        run([python, 'tools/test.py', config, last_checkpoint(work_dir),
             '--work-dir', work_dir, '--out', out, '--out-item', 'metrics'],
            f'{ROOT}/{work_dir}/demo_test.log', Progress(prefix))
        with open(osp.join(ROOT, out)) as f:
            metrics[run_name] = json.load(f)
        files.append(out)
        print(f'[{name}] {run_name}: trained and tested in '
              f'{time.time() - start:.0f} s', flush=True)
    if 'after' in task:
        task['after'](files)
    return metrics


def print_table(task, metrics):
    """One row per metric, one column per run (and the change when there
    are two)."""
    columns = task['columns']
    scale = task.get('scale', 1)
    change = len(columns) == 2
    print(f'\n{task["title"]}')
    print(f'  {"metric":<26}' + ''.join(f'{label:>11}'
                                         for label, _, _ in columns) +
          (f'{"change":>9}' if change else ''))
    for label, key in task['rows']:
        values = [metrics[run][prefix + key] * scale
                  for _, run, prefix in columns]
        print(f'  {label:<26}' + ''.join(f'{v:>11.2f}' for v in values) +
              (f'{values[1] - values[0]:>+9.2f}' if change else ''))


def print_profile(meta):
    counts = meta['counts']
    print('LT-Digits train profile (class 0 is the head; imbalance '
          f'{meta["imbalance_ratio"]}):')
    print(f'  {"class":<10}{"cls images":>11}{"det instances":>15}'
          f'{"det images":>12}{"seg pixels":>12}')
    for i, name in enumerate(meta['classes']):
        print(f'  {name:<10}{counts["cls_train"][i]:>11}'
              f'{counts["det_seg_train"][i]:>15}'
              f'{counts["det_train_images"][i]:>12}'
              f'{counts["seg_train_pixels"][i + 2]:>12}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument('--regenerate', action='store_true',
                        help=f'rebuild {DATA} even if it exists')
    args = parser.parse_args()
    os.chdir(ROOT)

    meta_file = f'{DATA}/lt_digits.json'
    complete = osp.exists(meta_file) and all(
        osp.isdir(f'{DATA}/{part}') for part in ('cls', 'det', 'seg'))
    if args.regenerate or not complete:
        make_lt_digits(DATA)
        print(f'wrote LT-Digits to {DATA}')
    with open(meta_file) as f:
        meta = json.load(f)
    print_profile(meta)

    results = {}
    for name in args.tasks:
        task = TASKS[name]
        if 'frequency' in task:
            frequency_file, tool_args = task['frequency']()
            run([sys.executable, 'tools/analysis/class_frequency.py',
                 *tool_args], f'{ROOT}/{WORK}/{name}_frequency.log')
            print(f'[{name}] class frequencies: {frequency_file}')
        results[name] = train_and_test(name, task)
    for name in args.tasks:
        print_table(TASKS[name], results[name])


if __name__ == '__main__':
    main()
