"""Convert a DeiT-LT student (timm-style distilled DeiT) to mmlt.

    python tools/model_converters/deit_lt_to_mmlt.py SRC DST [--ema]

SRC: a checkpoint of val-iisc/DeiT-LT (``{'model': ..., 'model_ema': ...,
'args': ...}``) or of facebookresearch/deit, keys ``cls_token``,
``dist_token``, ``pos_embed``, ``patch_embed.proj.*``, ``blocks.N.*``,
``norm.*``, ``head.*``, ``head_dist.*``. DST: an mmengine checkpoint for
mmlt's ``DeiTLTClassifier`` (``configs/deit_lt/deit-lt_*.py``:
mmpretrain's ``DistilledVisionTransformer`` + ``DeiTLTClsHead``):

    python tools/test.py \
        configs/deit_lt/deit-lt_deit-base-distilled_8xb128-1200e_cifar10-lt-ir100.py DST

The key mapping is that of mmpretrain's ``deit3_to_mmpretrain.py`` plus the
DIST token and head. Both models put the tokens in the order CLS, DIST,
patches, so ``pos_embed`` is copied as is.

DeiT-LT re-indexes the ImageNet-LT and iNaturalist classes by descending
training count (``datasets.py``: ``class_map``) and saves that map in the
checkpoint's ``args.class_map``; the heads' rows are in that order. mmlt's
datasets keep the original labels, so the rows are put back:
``row[c] = row_deit_lt[class_map[c]]`` (``--keep-class-order`` skips it).
CIFAR-LT has no map (its classes are already in descending order).
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from mmlt.utils.checkpoint_conversion import (  # noqa: E402
    ConversionError, blocks, converter_parser, load_state_dict, log,
    rename, require, save_checkpoint, strip_prefix)

RULES = [
    (r'(cls_token|dist_token|pos_embed)', r'backbone.\1'),
    (r'patch_embed\.proj\.(weight|bias)',
     r'backbone.patch_embed.projection.\1'),
    (r'blocks\.(\d+)\.norm1\.(weight|bias)', r'backbone.layers.\1.ln1.\2'),
    (r'blocks\.(\d+)\.norm2\.(weight|bias)', r'backbone.layers.\1.ln2.\2'),
    (r'blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)',
     r'backbone.layers.\1.attn.\2.\3'),
    (r'blocks\.(\d+)\.mlp\.fc1\.(weight|bias)',
     r'backbone.layers.\1.ffn.layers.0.0.\2'),
    (r'blocks\.(\d+)\.mlp\.fc2\.(weight|bias)',
     r'backbone.layers.\1.ffn.layers.1.\2'),
    (r'norm\.(weight|bias)', r'backbone.ln1.\1'),
    (r'(head|head_dist)\.(weight|bias)', r'head.layers.\1.\2'),
]
BLOCK = ['norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2']


def convert(state: dict, class_map=None) -> dict:
    state = strip_prefix(strip_prefix(state, 'module.'), '_orig_mod.')
    if 'dist_token' not in state or 'head_dist.weight' not in state:
        raise ConversionError(
            'not a distilled DeiT: dist_token / head_dist.weight missing '
            '(DeiT-LT students have a DIST token and head).')
    layers = blocks(state, r'(blocks\.\d+)\.')
    require(state, ['cls_token', 'dist_token', 'pos_embed'] + [
        f'{m}.{n}' for m in ['patch_embed.proj', 'norm', 'head', 'head_dist']
        + [f'{b}.{m}' for b in layers for m in BLOCK]
        for n in ('weight', 'bias')], 'DeiT-LT checkpoint')
    out, _, lines = rename(state, RULES, what='DeiT-LT checkpoint')
    num_classes = out['head.layers.head.weight'].shape[0]
    notes = []
    if class_map is not None:
        index = torch.as_tensor(list(class_map), dtype=torch.long)
        if not torch.equal(index.sort().values, torch.arange(num_classes)):
            raise ConversionError(f'args.class_map is not a permutation of '
                                  f'the {num_classes} classes.')
        for key in [f'head.layers.{h}.{n}' for h in ('head', 'head_dist')
                    for n in ('weight', 'bias')]:
            out[key] = out[key][index]
        notes.append('head rows reordered from DeiT-LT\'s frequency-sorted '
                     'class indices (args.class_map) to the dataset labels.')
    log(f'DeiT-LT -> mmlt: {len(out)} tensors, {len(layers)} blocks, '
        f'embed dims {out["backbone.cls_token"].shape[-1]}, '
        f'{num_classes} classes', lines, notes=notes)
    return out


def main(argv=None):
    parser = converter_parser(__doc__, 'DeiT-LT checkpoint')
    parser.add_argument('--ema', action='store_true',
                        help="convert 'model_ema' instead of 'model' "
                        "(DeiT-LT's evaluation uses 'model')")
    parser.add_argument('--keep-class-order', action='store_true',
                        help="do not undo DeiT-LT's class re-indexing "
                        '(args.class_map)')
    args = parser.parse_args(argv)
    key = 'model_ema' if args.ema else 'model'
    # DeiT-LT's main.py saves its argparse.Namespace ('args'): allowed for
    # this read (a plain attribute holder)
    state, ckpt = load_state_dict(
        args.src, (key, ) if args.ema else (key, 'state_dict'),
        allow_unsafe=args.unsafe_load,
        extra_safe_globals=[argparse.Namespace])
    class_map = None if args.keep_class_order else getattr(
        ckpt.get('args'), 'class_map', None)
    out = convert(state, class_map)
    # epoch and accuracies, as builtins (numpy floats need full unpickling)
    scalars = {k: (int if isinstance(v, int) else float)(v)
               for k, v in ckpt.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    meta = dict(converted_from=osp.basename(args.src), weights=key,
                converter='tools/model_converters/deit_lt_to_mmlt.py',
                model='DeiTLTClassifier (DistilledVisionTransformer + '
                'DeiTLTClsHead)', source_meta=scalars,
                class_order='dataset labels' if class_map is not None else
                'as in the source')
    save_checkpoint(out, args.dst, meta)
    print(f'saved {args.dst}')
    return args.dst


if __name__ == '__main__':
    main()
