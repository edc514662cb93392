"""Convert a DisAlign ImageNet-LT classifier (cvpods) to mmlt.

    python tools/model_converters/disalign_cvpods_to_mmlt.py SRC DST

SRC: a cvpods checkpoint of Megvii-BaseDetection/DisAlign's
``classification/imagenetlt/resnext50/resx50.scratch.imagenet_lt.224size.90e``
(stage 1) or ``....90e.disalign.10e`` (stage 2): ``{'model': ...}`` with
the cvpods ResNe(X)t under ``network.`` (``stem.conv1`` + ``.norm``,
``resN.B.conv1..3`` + ``.norm``, ``resN.B.shortcut`` + ``.norm``) and the
classifier ``network.linear`` (stage 2: cvpods' ``DisAlignLinear`` with
``logit_scale``, ``logit_bias`` (1, C) and ``confidence_layer`` (D -> 1)).
DST: an mmengine checkpoint for

* stage 1: ``configs/imagenet_lt/resnext50-32x4d_8xb32-90e_imagenet-lt.py``;
* stage 2: ``configs/imagenet_lt/resnext50-32x4d_disalign_8xb32-10e_imagenet-lt.py``.

The public stage-2 layer computes ``(1 + s * sigma) * z + sigma * b``
(paper eq. 6), i.e. ``z + sigma * (s * z + b)``; mmlt's eq. 5 is
``z + sigma * ((alpha - 1) * z + beta)``. So ``alpha = 1 + logit_scale``
and ``beta = logit_bias``, the confidence layer as is: the converted model
computes exactly the public model's logits.

Both take RGB input normalised with ImageNet's mean / std (cvpods:
``(x / 255 - mean) / std``; mmpretrain: ``(x - 255 * mean) / (255 * std)``).
"""
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from mmlt.utils.checkpoint_conversion import (  # noqa: E402
    ConversionError, blocks, bn_keys, converter_parser,
    load_state_dict, log, rename, require, save_checkpoint, strip_prefix)

BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'


def _block(name):
    """cvpods ``resN.B`` (N = 2..5) -> mmpretrain ``layer{N-1}.B``."""
    return lambda m: (f'backbone.layer{int(m[1]) - 1}.{m[2]}.'
                      + m.expand(name))


RULES = [
    (r'stem\.conv1\.weight', r'backbone.conv1.weight'),
    (rf'stem\.conv1\.norm\.{BN}', r'backbone.bn1.\1'),
    (r'res([2-5])\.(\d+)\.conv([123])\.weight', _block(r'conv\3.weight')),
    (rf'res([2-5])\.(\d+)\.conv([123])\.norm\.{BN}', _block(r'bn\3.\4')),
    (r'res([2-5])\.(\d+)\.shortcut\.weight', _block('downsample.0.weight')),
    (rf'res([2-5])\.(\d+)\.shortcut\.norm\.{BN}',
     _block(r'downsample.1.\3')),
    (r'linear\.(weight|bias)', r'head.fc.\1'),
    (r'linear\.logit_scale', r'head.fc.calibration.magnitude'),
    (r'linear\.logit_bias', r'head.fc.calibration.margin'),
    (r'linear\.confidence_layer\.(weight|bias)',
     r'head.fc.calibration.confidence.\1'),
]


def convert(state: dict):
    state = strip_prefix(state, 'module.')
    if not {'network.linear.weight', 'network.stem.conv1.weight'} <= set(
            state):
        raise ConversionError(
            'not a cvpods ResNe(X)t classifier: network.stem.conv1.weight / '
            f'network.linear.weight missing (keys: {sorted(state)[:5]} ...).')
    net = 'network.'
    stage2 = any(k.startswith(net + 'linear.') and not k.endswith(
        ('linear.weight', 'linear.bias')) for k in state)
    layers = blocks(state, r'(network\.res\d\.\d+)\.')
    required = [net + 'stem.conv1.weight', net + 'linear.weight',
                net + 'linear.bias'] + bn_keys(net + 'stem.conv1.norm')
    for b in layers:
        convs = ['conv1', 'conv2', 'conv3'] + (['shortcut'] if b.endswith(
            '.0') else [])
        required += [k for c in convs
                     for k in [f'{b}.{c}.weight'] + bn_keys(f'{b}.{c}.norm')]
    if stage2:
        required += [net + 'linear.' + k for k in (
            'logit_scale', 'logit_bias', 'confidence_layer.weight',
            'confidence_layer.bias')]
    require(state, required, 'DisAlign cvpods checkpoint')
    # the stage-2 G-RW loss keeps its class weights as a buffer
    out, ignored, lines = rename(
        state, [(r'network\.' + p, t) for p, t in RULES],
        [r'loss_evaluator\..+'], 'DisAlign cvpods checkpoint')
    notes = []
    num_classes, feat = out['head.fc.weight'].shape
    if stage2:
        cal = 'head.fc.calibration.'
        for name in ('magnitude', 'margin'):
            if out[cal + name].numel() != num_classes:
                raise ConversionError(
                    f'{cal + name}: {tuple(out[cal + name].shape)} values '
                    f'for {num_classes} classes.')
            out[cal + name] = out[cal + name].reshape(num_classes)
        # public eq. 6 (1 + s * sigma) z + sigma b == eq. 5 with alpha = 1 + s
        out[cal + 'magnitude'] = 1 + out[cal + 'magnitude']
        out[cal + 'confidence.weight'] = \
            out[cal + 'confidence.weight'].reshape(1, feat)
        out[cal + 'confidence.bias'] = out[cal + 'confidence.bias'].reshape(1)
        notes.append('magnitude alpha = 1 + public logit_scale (the public '
                     'eq.-6 form), margin beta = logit_bias: exact.')
    config = ('resnext50-32x4d_disalign_8xb32-10e_imagenet-lt.py' if stage2
              else 'resnext50-32x4d_8xb32-90e_imagenet-lt.py')
    notes.append(f'config: configs/imagenet_lt/{config}')
    log(f'DisAlign cvpods -> mmlt: stage {2 if stage2 else 1}, '
        f'{len(layers)} blocks, {num_classes} classes, {len(out)} tensors',
        lines, ignored, notes)
    return out, config


def main(argv=None):
    parser = converter_parser(__doc__, 'DisAlign cvpods classification checkpoint')
    args = parser.parse_args(argv)
    state, _ = load_state_dict(args.src, ('model', 'state_dict'),
                               allow_unsafe=args.unsafe_load)
    out, config = convert(state)
    save_checkpoint(out, args.dst, dict(
        converted_from=osp.basename(args.src),
        converter='tools/model_converters/disalign_cvpods_to_mmlt.py',
        config=f'configs/imagenet_lt/{config}'))
    print(f'saved {args.dst}')
    return args.dst


if __name__ == '__main__':
    main()
