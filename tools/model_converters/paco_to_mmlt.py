"""Convert a PaCo (MoCo-wrapped) ResNet, DeiT-LT's teacher, to mmpretrain.

    python tools/model_converters/paco_to_mmlt.py SRC DST

SRC: a PaCo checkpoint as DeiT-LT publishes its teachers (``{'state_dict':
...}`` saved from DDP, keys ``module.encoder_q.*`` (the ResNet),
``module.linear.*`` (the classifier on the pooled feature), plus the MoCo
key encoder ``encoder_k.*`` / ``linear_k.*``, the projection
``encoder_q.fc.*`` and the queue, which inference does not use). The
ResNet is recognised from the keys:

* CIFAR ResNet-32 (``resnet_cifar_paco.ResNet_s``) -> mmlt's ``CifarResNet``
  (``configs/deit_lt/resnet32_*.py``);
* torchvision-layout ResNet-50 (``resnet_imagenet_paco``) -> mmpretrain's
  ``ResNet`` (``configs/deit_lt/resnet50_*.py``).

PaCo's classifier is a plain ``nn.Linear`` with bias on the pooled feature
(DeiT-LT builds MoCo with ``normalize=False``), i.e. mmpretrain's
``LinearClsHead``, not the configs' LDAM cosine head. Use the teacher config
with ``model.head=dict(type='LinearClsHead', num_classes=C,
in_channels=64 | 2048)`` (``loss`` as you like; it is not used).

The CIFAR ResNet's stage transitions use option A (stride-2 subsampling
and zero channel padding, no weights); mmlt's ``CifarResNet`` has a 1x1
conv + BN there. The converter writes the fixed 1x1 conv that subsamples
and pads exactly, and an identity BN: the same function in eval mode (the
teacher always runs in eval mode). Do not fine-tune those layers.
"""
import os.path as osp
import re
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from mmlt.utils.checkpoint_conversion import (  # noqa: E402
    ConversionError, blocks, bn_keys, converter_parser,
    load_state_dict, log, rename, require, save_checkpoint, strip_prefix)

RULES = [
    (r'encoder_q\.((conv1|bn1)\..+)', r'backbone.\1'),
    (r'encoder_q\.(layer\d+\.\d+\.(conv\d|bn\d|downsample\.[01])\..+)',
     r'backbone.\1'),
    # option-B shortcut of the CIFAR ResNet
    (r'encoder_q\.(layer\d+\.\d+)\.shortcut\.([01])\.(.+)',
     r'backbone.\1.downsample.\2.\3'),
    (r'linear\.(weight|bias)', r'head.fc.\1'),
]
IGNORE = [r'encoder_q\.fc\..+', r'encoder_k\..+', r'linear_k\..+',
          r'queue(_l|_ptr)?']
BN_EPS = 1e-5  # mmpretrain's BN default


def option_a_shortcut(in_ch: int, out_ch: int) -> dict:
    """1x1 stride-2 conv + identity BN equal to (in eval mode)
    ``F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))``, p = out_ch // 4."""
    pad = out_ch // 4
    if in_ch + 2 * pad != out_ch:
        raise ConversionError(f'option-A shortcut {in_ch} -> {out_ch} '
                              'channels is not a symmetric zero padding.')
    weight = torch.zeros(out_ch, in_ch, 1, 1)
    weight[torch.arange(in_ch) + pad, torch.arange(in_ch)] = 1
    return {'0.weight': weight, '1.weight': torch.ones(out_ch),
            '1.bias': torch.zeros(out_ch),
            '1.running_mean': torch.zeros(out_ch),
            '1.running_var': torch.full((out_ch, ), 1 - BN_EPS),
            '1.num_batches_tracked': torch.tensor(0)}


def convert(state: dict):
    state = strip_prefix(state, 'module.')
    if 'linear.weight' not in state or not any(
            k.startswith('encoder_q.') for k in state):
        raise ConversionError(
            'not a PaCo / MoCo checkpoint: no encoder_q.* and linear.weight '
            f'(keys: {sorted(state)[:5]} ...).')
    bottleneck = any(re.fullmatch(r'encoder_q\.layer.+\.conv3\.weight', k)
                     for k in state)
    n = 3 if bottleneck else 2
    require(state, ['encoder_q.conv1.weight', 'linear.weight', 'linear.bias']
            + bn_keys('encoder_q.bn1') + [
                k for b in blocks(state, r'(encoder_q\.layer\d+\.\d+)\.')
                for i in range(1, n + 1)
                for k in [f'{b}.conv{i}.weight'] + bn_keys(f'{b}.bn{i}')],
            'PaCo checkpoint')
    out, ignored, lines = rename(state, RULES, IGNORE, 'PaCo checkpoint')
    layers = blocks(out, r'(backbone\.layer\d+\.\d+)\.')
    notes, synthesized = [], []
    for b in layers:
        w = out[f'{b}.conv1.weight']
        out_ch = out[f'{b}.conv{n}.weight'].shape[0]
        if (w.shape[1] != out_ch) and f'{b}.downsample.0.weight' not in out:
            if bottleneck:
                raise ConversionError(f'{b}: no downsample weights.')
            for k, v in option_a_shortcut(w.shape[1], out_ch).items():
                out[f'{b}.downsample.{k}'] = v
            synthesized.append(b)
    if synthesized:
        notes.append(f'option-A shortcuts of {", ".join(synthesized)} '
                     'written as fixed 1x1 conv + identity BN (exact in '
                     'eval mode).')
    stages = len(blocks(out, r'(backbone\.layer\d+)\.'))
    if bottleneck:
        arch = f'mmpretrain ResNet-{3 * len(layers) + 2}'
    elif stages == 3:
        arch = f'mmlt CifarResNet depth {2 * len(layers) + 2}'
    else:
        arch = f'mmpretrain ResNet-{2 * len(layers) + 2}'
    num_classes, feat = out['head.fc.weight'].shape
    notes.append(f'use a config with backbone {arch} and head=dict('
                 f"type='LinearClsHead', num_classes={num_classes}, "
                 f'in_channels={feat}).')
    log(f'PaCo -> mmpretrain: {arch}, {len(out)} tensors', lines, ignored,
        notes)
    return out, arch


def main(argv=None):
    parser = converter_parser(__doc__, 'PaCo checkpoint (DeiT-LT teacher)')
    args = parser.parse_args(argv)
    state, ckpt = load_state_dict(args.src, ('state_dict', 'model'),
                                  allow_unsafe=args.unsafe_load)
    out, arch = convert(state)
    meta = dict(converted_from=osp.basename(args.src),
                converter='tools/model_converters/paco_to_mmlt.py',
                model=f'ImageClassifier ({arch} + GlobalAveragePooling + '
                'LinearClsHead)')
    if isinstance(ckpt.get('epoch'), int):
        meta['epoch'] = ckpt['epoch']
    save_checkpoint(out, args.dst, meta)
    print(f'saved {args.dst}')
    return args.dst


if __name__ == '__main__':
    main()
