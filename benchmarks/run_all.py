"""Every mmlt cost benchmark in one command, one ratio table.

    python benchmarks/run_all.py                          # CPU, small models
    python benchmarks/run_all.py --device cuda --amp bf16 # GPU, paper sizes
    python benchmarks/run_all.py --only seg --only deit --rounds 5

Runs each benchmark in its own process (``--json`` to a temporary file),
prints its table as it finishes, then one table of the ratios, each
measured side by side in one process, the same way in every benchmark
(``benchmarks/measure.py``):

* step time: DisAlign stage 2 / stage 1 of the same model (target <= 0.5);
* memory: peak tensor bytes of that step, stage 2 / stage 1 (<= 0.6);
* inference: whole model with the calibrated / the stock classifier, same
  weights (<= 1.01), with the same measurement of the stock model against a
  copy of itself (the machine's noise floor for that ratio) and the
  calibration's cost estimated from the classifier alone (calibrated minus
  stock classifier time, over the stock model's time): far less noisy;
* teacher: DeiT-LT student step with / without the teacher in the loop
  (<= 1.10).

The presets: on a CPU the demo models (segmentation, detection), ResNet-50
at batch 8 and DeiT-Tiny; on a GPU the sizes of the GPU measurements
(``../shared/gpu/README.md``): ResNet-50 batch 128, FCN and DeepLabV3+
R50-D8 at 512 px batch 8, DeiT-B patch 4 at 32 px batch 128 and 256.
Detection runs wherever mmcv's compiled ops run (its row says when not).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)

PRESETS = {
    'cpu': [
        ('seg', 'seg_stage2_cost.py', []),
        ('det', 'det_stage2_cost.py', []),
        ('cls', 'cls_stage2_cost.py', ['--arch', 'resnet50',
                                       '--batch-size', '8']),
        ('deit', 'deit_distill_cost.py', ['--student', 'deit-tiny',
                                          '--batch', '64']),
    ],
    'cuda': [
        ('seg', 'seg_stage2_cost.py', [
            '--size', '512', '--batch', '8', '--stage1',
            'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py', '--stage2',
            'configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py']),
        ('seg', 'seg_stage2_cost.py', [
            '--size', '512', '--batch', '8', '--stage1',
            'mmseg::deeplabv3plus/'
            'deeplabv3plus_r50-d8_4xb4-160k_ade20k-512x512.py', '--stage2',
            'configs/ade20k/'
            'deeplabv3plus_r50-d8_disalign_4xb4-8k_ade20k-512x512.py']),
        ('det', 'det_stage2_cost.py', ['--model', 'lvis-r50']),
        ('cls', 'cls_stage2_cost.py', ['--arch', 'resnet50',
                                       '--batch-size', '128']),
        ('deit', 'deit_distill_cost.py', ['--student', 'deit-base',
                                          '--batch', '128']),
        ('deit', 'deit_distill_cost.py', ['--student', 'deit-base',
                                          '--batch', '256']),
    ],
}
QUICK = {
    'cls': ['--arch', 'resnet32-cifar', '--batch-size', '32'],
    'deit': ['--student', 'demo', '--batch', '32'],
    'det': ['--model', 'demo'],
    'seg': [],
}


def run(script, extra, args, json_path):
    cmd = [sys.executable, osp.join(HERE, script), '--device', args.device,
           '--amp', args.amp, '--json', json_path] + extra
    if args.rounds:
        cmd += ['--rounds', str(args.rounds)]
    if args.threads is not None:
        cmd += ['--threads', str(args.threads)]
    print('$ ' + ' '.join(osp.relpath(c, ROOT) if c.startswith(ROOT) else c
                          for c in cmd[1:]), flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        tail = '\n'.join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        print(tail)
        return dict(benchmark=script, model=' '.join(extra),
                    error=f'exit status {proc.returncode}', seconds=seconds)
    lines = [line for line in proc.stdout.splitlines()]
    print('\n'.join(lines), flush=True)
    with open(json_path) as f:
        data = json.load(f)
    data['seconds'] = seconds
    return data


def fmt(entry, key, percent=False):
    value = entry.get('summary', {}).get(key)
    if value is None:
        return '-'
    ratio, target = value['ratio'], value['target']
    text = (f'{100 * (ratio - 1):+.1f}%' if percent else f'{ratio:.2f}x')
    if target is not None:
        text += ' ok' if ratio <= target else ' MISSED'
    return text


def noise(entry):
    for row in entry.get('rows', []):
        if 'copy (noise)' in row['metric']:
            return f'{100 * (row["ratio"] - 1):+.1f}%'
    return '-'


def head_cost(entry):
    for note in entry.get('notes', []):
        if note.startswith('The calibration costs'):
            return note.split('= ')[-1].split('%')[0].strip() + '%'
    return '-'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--amp', default='fp32',
                        choices=['fp32', 'bf16', 'fp16'])
    parser.add_argument('--only', action='append',
                        choices=['seg', 'det', 'cls', 'deit'])
    parser.add_argument('--quick', action='store_true',
                        help='small models (a minute or two on a CPU)')
    parser.add_argument('--rounds', type=int,
                        help='timed rounds (default: each benchmark\'s)')
    parser.add_argument('--threads', type=int,
                        help='CPU threads (default: each benchmark\'s, 1)')
    parser.add_argument('--json', help='write all results here')
    args = parser.parse_args()
    preset = PRESETS['cuda' if args.device.startswith('cuda') else 'cpu']
    if args.quick:
        seen, quick = set(), []
        for kind, script, extra in preset:
            if kind not in seen:
                seen.add(kind)
                quick.append((kind, script, QUICK[kind]))
        preset = quick
    if args.only:
        preset = [p for p in preset if p[0] in args.only]
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float('nan')
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (kind, script, extra) in enumerate(preset):
            results.append(run(script, extra, args,
                               osp.join(tmp, f'{i}.json')))
            print(flush=True)
    try:
        load_after = os.getloadavg()[0]
    except OSError:
        load_after = float('nan')

    machine = next((r['machine'] for r in results if 'machine' in r), '?')
    print(f'mmlt cost benchmarks: {args.device} ({machine}), {args.amp}; '
          f'load average {load:.1f} before, {load_after:.1f} after')
    header = ('benchmark', 'step time', 'memory', 'inference',
              '(noise)', 'calib. cost', 'teacher')
    print(f'{header[0]:58}' + ''.join(f'{h:>13}' for h in header[1:]))
    for r in results:
        name = f"{r['benchmark']}: {r['model']}"
        if len(name) > 57:
            name = name[:54] + '...'
        if 'error' in r or 'skipped' in r:
            print(f'{name:58} {r.get("error") or r.get("skipped")}')
            continue
        cells = (fmt(r, 'time'), fmt(r, 'memory'),
                 fmt(r, 'inference', percent=True), noise(r), head_cost(r),
                 fmt(r, 'teacher'))
        print(f'{name:58}' + ''.join(f'{c:>13}' for c in cells))
    print('Targets: step time <= 0.5x, memory <= 0.6x, inference <= +1%, '
          'teacher <= 1.10x. (noise): the inference measurement of the '
          'stock model against a copy of itself; calib. cost: the '
          'calibrated minus the stock classifier alone, in % of the stock '
          "model's inference time.")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=args.device, amp=args.amp, load=load,
                           load_after=load_after, results=results), f,
                      indent=1)


if __name__ == '__main__':
    main()
