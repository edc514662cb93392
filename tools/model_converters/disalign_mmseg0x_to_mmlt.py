"""Convert DisAlign's mmseg 0.x segmentation checkpoint to mmlt.

    python tools/model_converters/disalign_mmseg0x_to_mmlt.py SRC DST \
        [--keep-auxiliary-head]

SRC: a stage-2 checkpoint of Megvii-BaseDetection/DisAlign's
``semantic_seg`` code (mmseg 0.x, ``DisAlignFCNHead``): the stock FCN keys
plus ``decode_head.logit_scale`` / ``decode_head.logit_bias``
(1, C, 1, 1) and ``decode_head.confidence_layer`` (a ``ConvModule``: 1x1
conv to one channel, BN, ReLU). DST: an mmengine checkpoint for
``configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py``
(``DisAlignFCNHead``); backbone and head keys are the same in mmseg 0.x
and 1.x and pass through.

The public head computes ``sigma * (s * z + b) + (1 - sigma) * z``: paper
eq. 5, so ``alpha = logit_scale`` and ``beta = logit_bias`` as they are.
Its confidence is ``sigmoid(ReLU(BN(conv(x))))``; in eval mode BN is
affine and is folded into mmlt's confidence layer (``v``, ``b``). The ReLU
(sigma >= 0.5: the calibration can never switch itself off, which the
paper's sigmoid confidence can; mmlt does not train with it) is mmlt's
opt-in ``confidence_relu``: evaluate the converted model with
``--cfg-options model.decode_head.confidence_relu=True`` to get the public
model's outputs exactly; without it, the outputs agree wherever
``BN(conv(x)) >= 0`` and those pixels elsewhere are calibrated less.

The auxiliary head is dropped (mmlt's stage-2 configs set
``auxiliary_head=None``) unless ``--keep-auxiliary-head``.
"""
import os.path as osp
import re
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from mmlt.utils.checkpoint_conversion import (  # noqa: E402
    ConversionError, bn_keys, converter_parser, load_state_dict, log,
    rename, require, save_checkpoint, strip_prefix)

BN_EPS = 1e-5  # mmcv's BN / SyncBN default; not stored in checkpoints
CONF = 'decode_head.confidence_layer.'
CAL = 'decode_head.conv_seg.calibration.'
RELU_NOTE = ('the public confidence has a ReLU before the sigmoid (sigma >= '
             '0.5): test with --cfg-options '
             'model.decode_head.confidence_relu=True for its exact outputs.')


def convert(state: dict, keep_auxiliary_head: bool = False):
    state = strip_prefix(state, 'module.')
    if 'decode_head.logit_scale' not in state:
        raise ConversionError(
            'not a DisAlign segmentation checkpoint: decode_head.logit_scale '
            'missing (a stock mmseg 0.x checkpoint loads into mmseg 1.x '
            'without conversion).')
    require(state, ['decode_head.conv_seg.weight', 'decode_head.logit_bias',
                    CONF + 'conv.weight'], 'DisAlign mmseg checkpoint')
    conf_keys = {k for k in state if k.startswith(CONF)}
    known = {CONF + 'conv.weight', CONF + 'conv.bias',
             CONF + 'bn.num_batches_tracked'} | set(bn_keys(CONF + 'bn'))
    if conf_keys - known:
        raise ConversionError('unexpected confidence_layer keys (only conv '
                              f'+ BN are known): {sorted(conf_keys - known)}')
    has_bn = CONF + 'bn.weight' in state
    if has_bn:
        require(state, bn_keys(CONF + 'bn'), 'DisAlign mmseg checkpoint')
    rules = [(r'decode_head\.logit_scale', CAL + 'magnitude'),
             (r'decode_head\.logit_bias', CAL + 'margin'),
             (r'(?!auxiliary_head\.|decode_head\.confidence_layer\.)(.+)',
              r'\1')]
    if keep_auxiliary_head:
        rules.append((r'(auxiliary_head\..+)', r'\1'))
    out, ignored, lines = rename(
        state, rules, [r'auxiliary_head\..+', re.escape(CONF) + r'.+'],
        'DisAlign mmseg checkpoint')
    ignored = [k for k in ignored if not k.startswith(CONF)]
    num_classes, channels = state['decode_head.conv_seg.weight'].shape[:2]
    for name in ('magnitude', 'margin'):
        if out[CAL + name].numel() != num_classes:
            raise ConversionError(f'{CAL + name}: {out[CAL + name].numel()} '
                                  f'values for {num_classes} classes.')
        out[CAL + name] = out[CAL + name].reshape(num_classes)
    # fold conv (+ bias) and eval-mode BN into one linear layer (float64)
    weight = state[CONF + 'conv.weight'].double().reshape(1, channels)
    bias = state.get(CONF + 'conv.bias', torch.zeros(1)).double().reshape(1)
    if has_bn:
        scale = state[CONF + 'bn.weight'].double() / torch.sqrt(
            state[CONF + 'bn.running_var'].double() + BN_EPS)
        bias = (bias - state[CONF + 'bn.running_mean'].double()) * scale \
            + state[CONF + 'bn.bias'].double()
        weight = weight * scale
    dtype = state[CONF + 'conv.weight'].dtype
    out[CAL + 'confidence.weight'] = weight.to(dtype)
    out[CAL + 'confidence.bias'] = bias.reshape(1).to(dtype)
    lines.append(f'decode_head.confidence_layer.conv{" + bn" if has_bn else ""}'
                 f' -> {CAL}confidence (folded)')
    notes = ['alpha = logit_scale, beta = logit_bias (public eq. 5): exact.',
             'NOTE: ' + RELU_NOTE]
    log(f'DisAlign mmseg 0.x -> mmlt: {num_classes} classes, {len(out)} '
        'tensors', lines, ignored, notes)
    return out


def main(argv=None):
    parser = converter_parser(__doc__, 'DisAlign mmseg 0.x checkpoint')
    parser.add_argument('--keep-auxiliary-head', action='store_true',
                        help='keep auxiliary_head.* (for a config with one)')
    args = parser.parse_args(argv)
    state, ckpt = load_state_dict(args.src, ('state_dict', 'model'),
                                  allow_unsafe=args.unsafe_load)
    out = convert(state, args.keep_auxiliary_head)
    meta = dict(converted_from=osp.basename(args.src),
                converter='tools/model_converters/disalign_mmseg0x_to_mmlt.py',
                config='configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-'
                '512x512.py', confidence_relu=RELU_NOTE)
    old = ckpt.get('meta') or {}
    if old.get('CLASSES'):
        meta['dataset_meta'] = dict(classes=tuple(old['CLASSES']))
        if old.get('PALETTE') is not None:
            meta['dataset_meta']['palette'] = [list(p) for p in old['PALETTE']]
    save_checkpoint(out, args.dst, meta)
    print(f'saved {args.dst}')
    return args.dst


if __name__ == '__main__':
    main()
