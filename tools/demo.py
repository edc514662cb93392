"""The mmlt demo: long-tailed recognition end to end on LT-Digits.

For each task it builds the data (real MNIST digits in the layouts of
ImageNet-LT, LVIS v1 and ADE20K), computes the class frequencies with
``tools/analysis/class_frequency.py``, trains stage 1 and DisAlign stage 2
with ``tools/train.py``, tests both with ``tools/test.py``, and prints a
before/after table. Everything runs on a CPU.

    python tools/demo.py                  # every task
    python tools/demo.py --tasks seg      # one task
"""
import argparse
import json
import os
import os.path as osp
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


def plot_cls(metrics_files):
    """Per-class accuracy against training frequency, before and after."""
    out = f'{WORK}/cls_accuracy.png'
    run([sys.executable, 'tools/analysis/plot_class_accuracy.py', 'accuracy',
         *metrics_files, '--labels', 'stage 1', 'DisAlign stage 2',
         '--frequency', f'{DATA}/cls/image_frequency.json', '-o', out],
        f'{ROOT}/{WORK}/cls_plot.log')
    print(f'[cls] per-class accuracy plot: {out}')


# Each task: its configs, the frequency file its stage 2 reads, and the
# metrics of the table (label, key in tools/test.py's metrics).
TASKS = {
    'seg':
    dict(
        title='Semantic segmentation: FCN (ResNet-18/16) + DisAlign, '
        'LT-Digits val',
        stage1='configs/demo/seg_stage1.py',
        stage2='configs/demo/seg_stage2.py',
        frequency=seg_frequency,
        metrics=[('mIoU', 'mIoU'), ('mAcc', 'mAcc'),
                 ('mIoU head (background)', 'mIoU_head'),
                 ('mIoU body (digits 0-4)', 'mIoU_body'),
                 ('mIoU tail (digits 5-9)', 'mIoU_tail'),
                 ('mAcc head', 'mAcc_head'), ('mAcc body', 'mAcc_body'),
                 ('mAcc tail', 'mAcc_tail')]),
    'cls':
    dict(
        title='Classification: ResNet + DisAlign, LT-Digits test',
        stage1='configs/demo/cls_stage1.py',
        stage2='configs/demo/cls_stage2.py',
        frequency=cls_frequency,
        after=plot_cls,
        metrics=[('top-1', 'lt/top1'), ('many (> 100 images)', 'lt/many'),
                 ('medium (20-100)', 'lt/medium'),
                 ('few (< 20)', 'lt/few')]),
}


def run(cmd, log_path):
    """Run a tool, its output to a log file; fail loudly with the log tail."""
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    with open(log_path, 'w') as log:
        result = subprocess.run(cmd, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        sys.exit(f'{" ".join(cmd)} failed (exit {result.returncode}); '
                 f'end of {log_path}:\n{tail}')


def last_checkpoint(work_dir):
    with open(osp.join(ROOT, work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train_and_test(name, task):
    python = sys.executable
    metrics, files = {}, []
    for stage in ('stage1', 'stage2'):
        work_dir = f'{WORK}/{name}_{stage}'
        cmd = [python, 'tools/train.py', task[stage], '--work-dir', work_dir]
        if stage == 'stage2':
            cmd += ['--cfg-options',
                    f'load_from={last_checkpoint(f"{WORK}/{name}_stage1")}']
        start = time.time()
        print(f'[{name}] {stage}: {" ".join(cmd[1:])}', flush=True)
        run(cmd, f'{ROOT}/{work_dir}/demo_train.log')
        out = f'{work_dir}/test_metrics.json'
        run([python, 'tools/test.py', task[stage], last_checkpoint(work_dir),
             '--work-dir', work_dir, '--out', out, '--out-item', 'metrics'],
            f'{ROOT}/{work_dir}/demo_test.log')
        with open(osp.join(ROOT, out)) as f:
            metrics[stage] = json.load(f)
        files.append(out)
        print(f'[{name}] {stage}: trained and tested in '
              f'{time.time() - start:.0f} s', flush=True)
    if 'after' in task:
        task['after'](files)
    return metrics


def print_table(task, metrics):
    print(f'\n{task["title"]}')
    print(f'  {"metric":<26}{"stage 1":>10}{"DisAlign":>10}{"change":>9}')
    for label, key in task['metrics']:
        before, after = metrics['stage1'][key], metrics['stage2'][key]
        print(f'  {label:<26}{before:>10.2f}{after:>10.2f}'
              f'{after - before:>+9.2f}')


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
        frequency_file, tool_args = task['frequency']()
        run([sys.executable, 'tools/analysis/class_frequency.py', *tool_args],
            f'{ROOT}/{WORK}/{name}_frequency.log')
        print(f'[{name}] class frequencies: {frequency_file}')
        results[name] = train_and_test(name, task)
    for name in args.tasks:
        print_table(TASKS[name], results[name])


if __name__ == '__main__':
    main()
