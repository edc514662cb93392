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
line every 15 s.
"""
import argparse
import contextlib
import gc
import glob
import io
import json
import os
import os.path as osp
import re
import runpy
import subprocess
import sys
import time
import traceback

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmlt.lt_digits import lt_digits_outdated, make_lt_digits  # noqa: E402

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


def per_class_file(metrics_file, name):
    """The per-class file (``per_class_<name>.json``) that the test run of
    ``metrics_file`` wrote next to its log."""
    found = sorted(glob.glob(osp.join(ROOT, osp.dirname(metrics_file), '*',
                                      f'per_class_{name}.json')),
                   key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'no per_class_{name}.json next to the test '
                                f'log of {metrics_file}')
    return found[-1]


def plot_per_class(task, name, metric):
    """The task's per-class ``metric`` against training frequency, one
    line per method (the first seed of the trained ones)."""

    def plot(metrics_files):
        out = f'{WORK}/{task}_per_class_{metric}.png'
        files = [per_class_file(f, name) for f in metrics_files.values()]
        tool('analysis/plot_per_class.py',
             [*files, '--labels', *metrics_files, '--metric', metric, '-o',
              out], f'{WORK}/{task}_plot.log')
        print(f'[{task}] per-class {metric} plot: {out}')

    return plot


def load_stage1(name, variant=''):
    """Stage 2 starts from stage 1's last checkpoint."""
    return lambda: [
        f'load_from={last_checkpoint(f"{WORK}/{name}_stage1{variant}")}']


def stage1_checkpoint(name, variant=''):
    return lambda: last_checkpoint(f'{WORK}/{name}_stage1{variant}')


def train_run(run, config, options=None, seeded=False, lane=None):
    """A run trained with tools/train.py, then tested; ``seeded``: once per
    --seeds value (a stage 2 from a fixed stage-1 checkpoint); ``lane``:
    the chain of runs it belongs to (default: the task's own)."""
    return dict(run=run, config=config, options=options, seeded=seeded,
                lane=lane)


def post_hoc_run(run, config, checkpoint, choose_tau=True, lane=None):
    """A post-hoc method tested on ``checkpoint`` (the stage-1 one) once:
    with tau chosen on val first, or (``choose_tau=False``, for the data
    whose val split is also the reported one) with the config's tau."""
    return dict(run=run, config=config, checkpoint=checkpoint,
                choose_tau=choose_tau, lane=lane)


def disalign_task(name, title, metrics, post_hoc=(), trained=(), **extra):
    """Stage 1, then DisAlign stage 2 and the baselines from its checkpoint
    (``post_hoc`` / ``trained``: (label, config suffix)); a table of
    ``metrics`` (label, key in tools/test.py's metrics)."""
    runs = [train_run('stage1', f'configs/demo/{name}_stage1.py'),
            train_run('stage2', f'configs/demo/{name}_stage2.py',
                      load_stage1(name), seeded=True),
            train_run('stage2_paper', f'configs/demo/{name}_stage2_paper.py',
                      load_stage1(name), seeded=True)]
    methods = [('stage 1', 'stage1', ''), ('DisAlign', 'stage2', ''),
               ('DisAlign, paper recipe', 'stage2_paper', '')]
    for label, suffix in post_hoc:
        # LT-Digits det / seg have a val split only (as LVIS and ADE20K):
        # a tau chosen on it would be chosen on the reported numbers
        runs.append(post_hoc_run(suffix, f'configs/demo/{name}_{suffix}.py',
                                 stage1_checkpoint(name), choose_tau=False))
        methods.append((label, suffix, ''))
    for label, suffix in trained:
        runs.append(train_run(suffix, f'configs/demo/{name}_{suffix}.py',
                              load_stage1(name), seeded=True))
        methods.append((label, suffix, ''))
    return dict(title=title, runs=runs, methods=methods, metrics=metrics,
                **extra)


def deit_teacher():
    """The student distils from the teacher trained just before."""
    return [f'model.teacher.checkpoint='
            f'{last_checkpoint(f"{WORK}/deit_teacher")}']


# the shifted test priors of the classification tables
SHIFTS = [('forward', 50), ('forward', 10), ('forward', 5), ('balanced', 1),
          ('backward', 5), ('backward', 10), ('backward', 50)]
SHORT = dict(forward='fwd', balanced='bal.', backward='bwd')


def shifted_key(direction, ratio, suffix=''):
    """LongTailAccuracy's key of a shifted test set (the balanced one for
    ratio 1)."""
    return 'lt/top1' if ratio == 1 else f'lt/{direction}{ratio}_top1{suffix}'


# Each task: its runs (train_run / post_hoc_run), the frequency file its
# losses read, and its table: one row per method (label, run, metric
# prefix), one column per metric (label, key after the prefix).
CLS = 'configs/demo/cls'
TASKS = {
    'seg':
    disalign_task(
        'seg',
        'Semantic segmentation: FCN (ResNet-18/16) + DisAlign, LT-Digits val'
        ' (head: background, body: digits 0-4, tail: digits 5-9)',
        frequency=seg_frequency,
        post_hoc=[('logit adjustment (tau 1)', 'logit-adjustment')],
        after=plot_per_class('seg', 'seg', 'IoU'),
        metrics=[('mIoU', 'mIoU'), ('mAcc', 'mAcc'),
                 ('IoU head', 'mIoU_head'), ('IoU body', 'mIoU_body'),
                 ('IoU tail', 'mIoU_tail'), ('Acc head', 'mAcc_head'),
                 ('Acc body', 'mAcc_body'), ('Acc tail', 'mAcc_tail')]),
    'det':
    disalign_task(
        'det',
        'Detection and instance segmentation: Mask R-CNN (ResNet-18/4) + '
        'DisAlign, LT-Digits val (LVISMetric, AP in %)',
        frequency=det_frequency,
        post_hoc=[('logit adjustment (tau 1)', 'logit-adjustment'),
                  ('tau-norm (tau 1)', 'tau-norm')],
        trained=[('cRT', 'crt')],
        after=plot_per_class('det', 'det', 'bbox_AP'),
        # LVIS's rare / common / frequent split by train images per
        # category: 1-10 / 11-100 / > 100
        metrics=[(f'{kind} {ap}', f'lvis/{key}_{ap}')
                 for kind, key in (('box', 'bbox'), ('mask', 'segm'))
                 for ap in ('AP', 'APr', 'APc', 'APf')],
        scale=100),  # LVISMetric reports fractions
    'cls':
    dict(
        title='Classification: ResNet-8, DisAlign and the decoupled '
        'baselines from one stage-1 checkpoint (cosine: its own stage 1), '
        'LT-Digits test, balanced top-1 %; many > 100, medium 20-100, '
        'few < 20 training images',
        runs=[train_run('stage1', f'{CLS}_stage1.py'),
              train_run('disalign', f'{CLS}_stage2.py', load_stage1('cls'),
                        seeded=True),
              train_run('disalign_paper', f'{CLS}_stage2_paper.py',
                        load_stage1('cls'), seeded=True),
              post_hoc_run('logit_adjustment', f'{CLS}_logit-adjustment.py',
                           stage1_checkpoint('cls')),
              post_hoc_run('tau_norm', f'{CLS}_tau-norm.py',
                           stage1_checkpoint('cls')),
              train_run('crt', f'{CLS}_crt.py', load_stage1('cls'),
                        seeded=True),
              train_run('lws', f'{CLS}_lws.py', load_stage1('cls'),
                        seeded=True),
              # the cosine variant has its own stage 1: its own lane
              train_run('stage1_cosine', f'{CLS}_stage1_cosine.py',
                        lane='cls_cosine'),
              train_run('disalign_cosine', f'{CLS}_stage2_cosine.py',
                        load_stage1('cls', '_cosine'), seeded=True,
                        lane='cls_cosine'),
              post_hoc_run('logit_adjustment_cosine',
                           f'{CLS}_logit-adjustment_cosine.py',
                           stage1_checkpoint('cls', '_cosine'),
                           lane='cls_cosine')],
        methods=[('stage 1', 'stage1', ''), ('DisAlign', 'disalign', ''),
                 ('DisAlign, paper recipe', 'disalign_paper', ''),
                 ('logit adjustment', 'logit_adjustment', ''),
                 ('tau-norm', 'tau_norm', ''), ('cRT', 'crt', ''),
                 ('LWS', 'lws', ''), ('cosine stage 1', 'stage1_cosine', ''),
                 ('DisAlign* (cosine)', 'disalign_cosine', ''),
                 ('cosine + logit adj.', 'logit_adjustment_cosine', '')],
        frequency=cls_frequency,
        after=plot_per_class('cls', 'lt', 'top1'),
        # the same runs under other test label priors and their calibration
        more_tables=[
            ('Classification under label shift: top-1 % on the LT-Digits '
             'test set re-sampled to a long-tailed prior (SADE\'s test-'
             'agnostic protocol; fwd: the training order, bwd: reversed; '
             'imbalance 50 / 10 / 5; bal.: the balanced test set)',
             [(f'{SHORT[d]} {r}', shifted_key(d, r)) for d, r in SHIFTS]),
            ('The same, with the test prior added to each model\'s '
             'log-probabilities (post-hoc logit adjustment to the test prior '
             'for a model that targets the balanced distribution)',
             [(f'{SHORT[d]} {r}', shifted_key(d, r, '_prior'))
              for d, r in SHIFTS]),
            ('Calibration: expected calibration error % (15 bins, as MiSLAS),'
             ' LT-Digits test, overall and of the samples of each group',
             [('ECE', 'lt/ece'), ('many', 'lt/ece_many'),
              ('medium', 'lt/ece_medium'), ('few', 'lt/ece_few')])],
        metrics=[('top-1', 'lt/top1'), ('many', 'lt/many'),
                 ('medium', 'lt/medium'), ('few', 'lt/few')]),
    'deit':
    dict(
        title='DeiT-LT: tiny ViT student, ResNet-8 teacher (LDAM + DRW + '
        'SAM), LT-Digits test, top-1 %; many > 100, medium 20-100, few < 20 '
        'training images',
        runs=[train_run('teacher', 'configs/demo/deit_teacher.py'),
              train_run('student', 'configs/demo/deit_student.py',
                        deit_teacher),
              # the plain DeiT needs no teacher: its own lane
              train_run('plain', 'configs/demo/deit_plain.py',
                        lane='deit_plain'),
              post_hoc_run('plain_logit_adjustment',
                           'configs/demo/deit_plain_logit-adjustment.py',
                           lambda: last_checkpoint(f'{WORK}/deit_plain'),
                           lane='deit_plain')],
        methods=[('teacher', 'teacher', 'lt/'),
                 ('plain DeiT', 'plain', 'lt/'),
                 ('plain DeiT + logit adj.', 'plain_logit_adjustment', 'lt/'),
                 ('DeiT-LT CLS', 'student', 'lt_cls/'),
                 ('DeiT-LT DIST', 'student', 'lt_dist/'),
                 ('DeiT-LT average', 'student', 'lt_avg/')],
        frequency=cls_frequency,  # the logit adjustment's prior
        metrics=[('overall', 'top1'), ('many', 'many'),
                 ('medium', 'medium'), ('few', 'few')]),
}


# mmengine's progress lines: 'Epoch(train)  [3][10/32]  ... eta: 0:00:37',
# 'Iter(train) [350/900]  ...', 'Epoch(test) [10/25]  ...'
PROGRESS = re.compile(r'(?:Epoch|Iter)\((train|val|test)\)\s*'
                      r'(?:\[\s*(\d+)\])?\[\s*(\d+)/(\d+)\]'
                      r'(?:.*?eta: ((?:\d+ days?, )?\S+))?')
VERB = dict(train='training', val='validating', test='testing')
LINES_ONLY = False  # --lines: progress as whole lines (lanes side by side)


class Progress:
    """Shows a run's progress: one line updated in place on a terminal,
    else a new line at most every ``every`` seconds."""

    def __init__(self, prefix, max_epochs=None, every=15):
        self.prefix, self.max_epochs, self.every = prefix, max_epochs, every
        # the demo's own stdout: a tool running in this process has its
        # output redirected to its log
        self.out = sys.stdout
        self.tty = self.out.isatty() and not LINES_ONLY
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
            print(f'\r\033[K{text}', end='', flush=True, file=self.out)
            self.shown = text
        elif self.last is None or time.time() - self.last >= self.every:
            print(text, flush=True, file=self.out)
            self.last = time.time()

    def close(self):
        if self.tty and self.shown:
            # keep the last state on its own line
            print(flush=True, file=self.out)


class LogStream(io.TextIOBase):
    """A tool's stdout / stderr while it runs in this process: every line to
    its log file, and to ``progress``."""

    def __init__(self, log, progress):
        self.log, self.progress, self.partial = log, progress, ''

    def writable(self):
        return True

    def write(self, text):
        if self.log.closed:  # a logger left over from a finished run
            return len(text)
        self.log.write(text)
        if self.progress is not None:
            *lines, self.partial = (self.partial + text).split('\n')
            for line in lines:
                self.progress.update(line)
        return len(text)

    def flush(self):
        if not self.log.closed:
            self.log.flush()


def run_in_process(script, args, log_path, progress=None):
    """``tools/<script>`` with ``args`` as ``__main__`` in this process, its
    output to a log file: a lane imports the toolboxes once (about 10 s a
    process) instead of once per run. Fails loudly with the log tail."""
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    argv = sys.argv
    failure = None
    with open(log_path, 'w', buffering=1) as log:
        stream = LogStream(log, progress)
        sys.argv = [script, *args]
        try:
            with contextlib.redirect_stdout(stream), \
                    contextlib.redirect_stderr(stream):
                runpy.run_path(osp.join(ROOT, 'tools', script),
                               run_name='__main__')
        except SystemExit as exit:
            if exit.code not in (None, 0):
                failure = f'exit {exit.code}'
                if not isinstance(exit.code, int):
                    log.write(f'{exit.code}\n')
        except Exception:  # the tool's error, in its log like a process's
            log.write(traceback.format_exc())
            failure = 'an exception'
        finally:
            sys.argv = argv
            if progress is not None:
                progress.close()
    gc.collect()  # the finished runner's model and data
    if failure is not None:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        sys.exit(f'tools/{script} {" ".join(args)} failed ({failure}); '
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


def tool(name, args, log, prefix=None, max_epochs=None):
    """tools/<name> with ``args``, its output to ``log``."""
    run_in_process(name, args, f'{ROOT}/{log}',
                   Progress(prefix, max_epochs) if prefix else None)


def test_once(prefix, config, checkpoint, work_dir, options=()):
    """tools/test.py on the test split; its metrics file."""
    out = f'{work_dir}/test_metrics.json'
    tool('test.py', [config, checkpoint, '--work-dir', work_dir, '--out', out,
                     '--out-item', 'metrics',
                     *(['--cfg-options', *options] if options else [])],
         f'{work_dir}/demo_test.log', prefix)
    return out


def train_then_test(name, spec, seed):
    """Train a run (with ``randomness.seed=seed`` unless None), test it."""
    run_name = spec['run'] if seed is None else f'{spec["run"]}_seed{seed}'
    work_dir = f'{WORK}/{name}_{run_name}'
    prefix = f'[{name}] {run_name}'
    options = [] if spec['options'] is None else spec['options']()
    if seed is not None:
        options.append(f'randomness.seed={seed}')
    args = [spec['config'], '--work-dir', work_dir,
            '--overwrite']  # the demo's own earlier run
    if options:
        args += ['--cfg-options', *options]
    print(f'{prefix}: tools/train.py {" ".join(args)}', flush=True)
    tool('train.py', args, f'{work_dir}/demo_train.log', prefix,
         max_epochs(spec['config']))
    return test_once(prefix, spec['config'], last_checkpoint(work_dir),
                     work_dir)


def choose_then_test(name, spec):
    """A post-hoc method: tau chosen on val (unless the spec says not to),
    then the test split once."""
    work_dir = f'{WORK}/{name}_{spec["run"]}'
    prefix = f'[{name}] {spec["run"]}'
    checkpoint = spec['checkpoint']()
    if not spec['choose_tau']:
        print(f'{prefix}: the config\'s tau', flush=True)
        return test_once(prefix, spec['config'], checkpoint, work_dir)
    sweep = f'{work_dir}/tau_on_val.json'
    print(f'{prefix}: tools/analysis/choose_tau.py {spec["config"]} '
          f'{checkpoint}', flush=True)
    tool('analysis/choose_tau.py',
         [spec['config'], checkpoint, '--work-dir', f'{work_dir}/val',
          '--out', sweep], f'{work_dir}/demo_choose_tau.log')
    with open(osp.join(ROOT, sweep)) as f:
        chosen = json.load(f)
    print(f'{prefix}: tau {chosen["best_tau"]:g} on val '
          f'({chosen["metric"]})', flush=True)
    return test_once(prefix, spec['config'], checkpoint, work_dir,
                     chosen['cfg_options'].split())


def train_and_test(name, specs, seeds):
    """The runs ``specs`` of task ``name`` in order; their test metrics by
    run, a list per run (one entry per seed for the seeded runs), and the
    metrics file of each run's first seed."""
    metrics, files = {}, {}
    for spec in specs:
        start = time.time()
        if 'checkpoint' in spec:
            outs = [choose_then_test(name, spec)]
        else:
            outs = [train_then_test(name, spec, seed) for seed in
                    (seeds if spec['seeded'] else [None])]
        metrics[spec['run']] = []
        for out in outs:
            with open(osp.join(ROOT, out)) as f:
                metrics[spec['run']].append(json.load(f))
        files[spec['run']] = outs[0]
        print(f'[{name}] {spec["run"]}: done in {time.time() - start:.0f} s',
              flush=True)
    return metrics, files


# The runs of a task form lanes: chains where each run needs the one before
# (stage 2 the stage-1 checkpoint). Lanes are independent, so the demo runs
# them side by side, one process and one thread each: per-run numbers do
# not depend on the core count, and on 2 cores two single-threaded lanes
# finish about 1.5x sooner than one lane on two threads (measured, 8 epochs
# of cls_stage1 per tools/train.py process: 24 s on two threads, so 48 s
# for two in a row; two one-thread processes side by side, 32 s; the
# command: docs/en/results.md). Longest first, as measured, so that no
# long lane starts last.
LONGEST_FIRST = ['deit', 'det', 'seg', 'cls', 'deit_plain', 'cls_cosine']


def lanes(names):
    """The lanes of tasks ``names``, longest first: lane -> (task, runs)."""
    found = {}
    for name in names:
        for spec in TASKS[name]['runs']:
            found.setdefault(spec['lane'] or name, (name, []))[1].append(spec)
    # a lane missing from LONGEST_FIRST runs last, not never
    order = sorted(found, key=lambda lane: (
        LONGEST_FIRST.index(lane) if lane in LONGEST_FIRST
        else len(LONGEST_FIRST)))
    return {lane: found[lane] for lane in order}


def lane_results(lane):
    return f'{WORK}/lanes/{lane}.json'


def run_lane(lane, seeds):
    """One lane in this process (``--lane``), its results to a file."""
    name, specs = lanes(TASKS)[lane]
    metrics, files = train_and_test(name, specs, seeds)
    os.makedirs(osp.dirname(lane_results(lane)), exist_ok=True)
    with open(lane_results(lane), 'w') as f:
        json.dump(dict(metrics=metrics, files=files), f)


def run_side_by_side(commands, jobs, failed):
    """Run ``commands`` (name -> argv, in order), ``jobs`` at a time, each a
    process with one thread, from the repository root; on a failure stop
    the others and exit with ``failed`` (a template of ``{name}``)."""
    todo, running = list(commands), {}
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    while todo or running:
        while todo and len(running) < max(1, jobs):
            name = todo.pop(0)
            running[name] = subprocess.Popen(commands[name], cwd=ROOT,
                                             env=env)
        time.sleep(0.5)
        for name, proc in list(running.items()):
            if proc.poll() is None:
                continue
            del running[name]
            if proc.returncode != 0:
                for other in running.values():
                    other.terminate()
                sys.exit(f'{failed.format(name=name)} (exit '
                         f'{proc.returncode}); the error is above')


def run_lanes(names, seeds, jobs):
    """Every lane of tasks ``names``, ``jobs`` at a time, each a process
    with one thread; the merged results by task."""
    commands = {}
    for lane in lanes(names):
        cmd = [sys.executable, osp.abspath(__file__), '--lane', lane,
               '--seeds', *map(str, seeds)]
        if jobs > 1:  # lanes side by side: whole lines, not in place
            cmd.append('--lines')
        commands[lane] = cmd
    run_side_by_side(commands, jobs,
                     'the demo stopped: its {name} lane failed')
    results = {name: dict(metrics={}, files={}) for name in names}
    for lane, (name, _) in lanes(names).items():
        with open(osp.join(ROOT, lane_results(lane))) as f:
            found = json.load(f)
        for key in ('metrics', 'files'):
            results[name][key].update(found[key])
    return results


def tables(task, metrics):
    """The task's tables as text: its own and its ``more_tables``."""
    return '\n\n'.join(
        table(task, title, columns, metrics) for title, columns in
        [(task['title'], task['metrics']), *task.get('more_tables', [])])


def table(task, title, columns, metrics):
    """A table of the task's methods as text: mean (+- std over seeds)
    of each of ``columns`` (label, metric key)."""
    scale = task.get('scale', 1)
    width = max(len(label) for label, _, _ in task['methods']) + 2
    seeded = any(len(metrics[run]) > 1 for _, run, _ in task['methods'])
    cell = 15 if seeded else 10
    lines = [title,
             f'  {"method":<{width}}' + ''.join(
                 f'{label:>{cell}}' for label, _ in columns)]
    for label, run, prefix in task['methods']:
        row = f'  {label:<{width}}'
        for _, key in columns:
            values = np.array([m[prefix + key] for m in metrics[run]],
                              dtype=float) * scale
            text = f'{values.mean():.2f}'
            if len(values) > 1:
                text += f' +-{values.std():.2f}'
            row += f'{text:>{cell}}'
        lines.append(row)
    if seeded:
        lines.append('  (+- : std over the stage-2 seeds; post-hoc methods '
                     'and stage 1 run once)')
    return '\n'.join(lines)


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
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='seeds of the trained stage-2 runs (default 0)')
    parser.add_argument('--out', help='also write the tables to this file')
    parser.add_argument(
        '--jobs', type=int,
        default=min(os.cpu_count() or 1, len(LONGEST_FIRST)),
        help='lanes run side by side, one thread each (default: the cores)')
    parser.add_argument('--lane', choices=list(lanes(TASKS)),
                        help=argparse.SUPPRESS)  # a lane's own process
    parser.add_argument('--lines', action='store_true',
                        help=argparse.SUPPRESS)  # progress as whole lines
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.lane is not None:
        global LINES_ONLY
        LINES_ONLY = args.lines
        return run_lane(args.lane, args.seeds)

    meta_file = f'{DATA}/lt_digits.json'
    stale = lt_digits_outdated(DATA)
    if args.regenerate or stale:
        if stale and osp.exists(meta_file):
            print(f'{DATA}: {stale}; rewriting it')
        make_lt_digits(DATA)
        print(f'wrote LT-Digits to {DATA}')
    with open(meta_file) as f:
        meta = json.load(f)
    print_profile(meta)

    for name in args.tasks:
        frequency_file, tool_args = TASKS[name]['frequency']()
        tool('analysis/class_frequency.py', tool_args,
             f'{WORK}/{name}_frequency.log')
        print(f'[{name}] class frequencies: {frequency_file}')
    start = time.time()
    results = run_lanes(args.tasks, args.seeds, max(1, args.jobs))
    print(f'all runs done in {time.time() - start:.0f} s', flush=True)
    for name in args.tasks:
        if 'after' in TASKS[name]:
            files = results[name]['files']
            TASKS[name]['after']({label: files[run] for label, run, _ in
                                  TASKS[name]['methods']})
    texts = [tables(TASKS[name], results[name]['metrics'])
             for name in args.tasks]
    print('\n' + '\n\n'.join(texts))
    if args.out:
        with open(args.out, 'w') as f:
            f.write('\n\n'.join(texts) + '\n')


if __name__ == '__main__':
    main()
