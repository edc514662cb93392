"""tools/model_converters/: published DeiT-LT, PaCo and DisAlign checkpoints
to mmlt. Each test builds a small plain-torch model with the public code's
key names and forward, saves it as the public code does, converts it, loads
the result strictly into the model of an mmlt config (shrunk) and compares
the outputs on random inputs."""
import argparse
import copy
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import nn

from mmlt.utils.checkpoint_conversion import ConversionError

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / 'tools' / 'model_converters'


def script(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model_cfg(config, edit):
    """The ``model`` of an mmlt config, changed by ``edit(model_cfg)``."""
    cfg = Config.fromfile(str(ROOT / 'configs' / config)).model
    edit(cfg)
    return cfg


def build(config, scope, edit):
    if scope == 'mmpretrain':
        import mmlt.classification  # noqa: F401
        import mmlt.classification.deit_lt  # noqa: F401
        from mmpretrain.registry import MODELS
    else:
        import mmlt.segmentation  # noqa: F401
        from mmseg.registry import MODELS
    init_default_scope(scope)
    return MODELS.build(model_cfg(config, edit)).eval()


def randomize_bn(module, seed=0):
    """Non-trivial eval-mode BN statistics and affine parameters."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)
    return module


# ---- DeiT-LT student: timm / facebookresearch-deit layout -------------------
class TimmAttention(nn.Module):

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads) \
            .permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * (C // self.heads)**-0.5).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class TimmMlp(nn.Module):

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class TimmBlock(nn.Module):

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = TimmAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = TimmMlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TimmDistilledDeiT(nn.Module):
    """DeiT-LT's ``DistilledVisionTransformer`` (deit_models/deit.py)."""

    def __init__(self, img=32, patch=8, dim=16, depth=2, heads=2, hidden=32,
                 classes=10):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.dist_token = nn.Parameter(torch.randn(1, 1, dim))
        self.pos_embed = nn.Parameter(
            torch.randn(1, (img // patch)**2 + 2, dim))
        self.blocks = nn.Sequential(
            *[TimmBlock(dim, heads, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        self.head_dist = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        tokens = [t.expand(x.size(0), -1, -1)
                  for t in (self.cls_token, self.dist_token)]
        x = self.norm(self.blocks(torch.cat(tokens + [x], 1) + self.pos_embed))
        return self.head(x[:, 0]), self.head_dist(x[:, 1])


def deit_target(cfg):
    cfg.teacher = None
    cfg.backbone.update(
        arch=dict(embed_dims=16, num_layers=2, num_heads=2,
                  feedforward_channels=32),
        img_size=32, patch_size=8, drop_path_rate=0.0)
    cfg.head.update(in_channels=16, num_classes=10)


# DeiT-LT's class_map: dataset label -> index sorted by training count
CLASS_MAP = [3, 0, 9, 1, 4, 8, 2, 7, 5, 6]


def deit_checkpoint(path):
    torch.manual_seed(0)
    public = TimmDistilledDeiT().eval()
    for p in public.parameters():
        p.data.normal_(0, 0.3)
    state = public.state_dict()
    ema = {k: v + 1 for k, v in state.items()}
    # as DeiT-LT's main.py saves it
    torch.save(dict(model=state, model_ema=ema, epoch=1199,
                    args=argparse.Namespace(model='deit_base_distilled',
                                            class_map=CLASS_MAP),
                    best_acc_avg=np.float64(87.5)), path)
    return public


def test_deit_lt_student(tmp_path):
    public = deit_checkpoint(tmp_path / 'deit_lt.pth')
    dst = tmp_path / 'deit_lt_mmlt.pth'
    # the CLI, as a user runs it
    proc = subprocess.run(
        [sys.executable, str(TOOLS / 'deit_lt_to_mmlt.py'),
         str(tmp_path / 'deit_lt.pth'), str(dst)],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert 'blocks.*.mlp.fc1.weight -> backbone.layers.*.ffn.layers.0.0.weight' \
        in proc.stdout
    model = build('deit_lt/deit-lt_deit-base-distilled_8xb128-1200e_'
                  'cifar10-lt-ir100.py', 'mmpretrain', deit_target)
    ckpt = load_checkpoint(model, str(dst), strict=True)
    assert ckpt['meta']['weights'] == 'model'
    assert ckpt['meta']['source_meta'] == dict(epoch=1199, best_acc_avg=87.5)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        cls_logits, dist_logits = model.head.forward_heads(
            model.extract_feat(x))
        # DeiT-LT's outputs in its frequency-sorted class order, mmlt's in
        # the dataset's labels
        ref_cls, ref_dist = (y[:, CLASS_MAP] for y in public(x))
        torch.testing.assert_close(cls_logits, ref_cls)
        torch.testing.assert_close(dist_logits, ref_dist)
        # DeiT's inference: the average of the heads
        torch.testing.assert_close(
            model(x, mode='tensor'), (ref_cls + ref_dist) / 2)
    # --ema picks the EMA weights, --keep-class-order DeiT-LT's order
    script('deit_lt_to_mmlt').main(
        [str(tmp_path / 'deit_lt.pth'), str(dst), '--ema',
         '--keep-class-order'])
    ckpt = torch.load(dst, weights_only=True)  # plain data only
    assert ckpt['meta']['weights'] == 'model_ema'
    assert ckpt['meta']['class_order'] == 'as in the source'
    torch.testing.assert_close(ckpt['state_dict']['backbone.cls_token'],
                               public.cls_token.data + 1)
    torch.testing.assert_close(ckpt['state_dict']['head.layers.head.bias'],
                               public.head.bias.data + 1)


def test_deit_lt_errors(tmp_path):
    convert = script('deit_lt_to_mmlt').convert
    deit_checkpoint(tmp_path / 'a.pth')
    state = torch.load(tmp_path / 'a.pth', weights_only=False)['model']
    broken = {k: v for k, v in state.items() if k != 'blocks.1.mlp.fc2.weight'}
    with pytest.raises(ConversionError,
                       match=r'1 missing keys: blocks\.1\.mlp\.fc2\.weight'):
        convert(broken)
    with pytest.raises(ConversionError, match='unexpected keys.*ls1.gamma'):
        convert(dict(state, **{'blocks.0.ls1.gamma': torch.ones(16)}))
    with pytest.raises(ConversionError, match='not a distilled DeiT'):
        convert({k: v for k, v in state.items() if 'dist' not in k})
    with pytest.raises(ConversionError, match='not a permutation'):
        convert(state, class_map=[0] * 10)
    # the CLI fails with the message and a non-zero exit status
    torch.save(dict(model=broken), tmp_path / 'broken.pth')
    proc = subprocess.run(
        [sys.executable, str(TOOLS / 'deit_lt_to_mmlt.py'),
         str(tmp_path / 'broken.pth'), str(tmp_path / 'out.pth')],
        capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'ConversionError' in proc.stderr and 'missing keys' in proc.stderr
    assert not (tmp_path / 'out.pth').exists()


# ---- PaCo teachers: MoCo wrapper around a ResNet ----------------------------
class OptionA(nn.Module):
    """LDAM / PaCo CIFAR shortcut: subsample, zero-pad the channels."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class CifarBlock(nn.Module):

    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = OptionA(planes) if stride != 1 or inp != planes \
            else nn.Sequential()

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + self.shortcut(x))


class ResNetS(nn.Module):
    """resnet_cifar_paco.ResNet_s (ResNet-32 with n = 5)."""

    def __init__(self, num_classes, n=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        inp, layers = 16, []
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for s in [stride] + [1] * (n - 1):
                blocks.append(CifarBlock(inp, planes, s))
                inp = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return self.avgpool(self.layer3(self.layer2(self.layer1(x)))) \
            .flatten(1)


class MoCo(nn.Module):
    """DeiT-LT's moco/builder.py MoCo (mlp=True, normalize=False): the
    classifier ``linear`` sees the pooled feature of ``encoder_q``."""

    def __init__(self, encoder, feat_dim, num_classes, dim=32, K=64,
                 key_encoder=True):
        super().__init__()
        self.encoder_q = encoder
        hidden = encoder.fc.weight.shape[1]
        encoder.fc = nn.Sequential(nn.Linear(hidden, hidden),
                                   nn.BatchNorm1d(hidden), nn.ReLU(),
                                   encoder.fc)
        self.linear = nn.Linear(feat_dim, num_classes)
        if key_encoder:
            self.encoder_k = copy.deepcopy(encoder)
            self.linear_k = copy.deepcopy(self.linear)
        self.register_buffer('queue', torch.randn(K, dim))
        self.register_buffer('queue_l', torch.randint(0, num_classes, (K, )))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))

    def forward(self, x):
        enc = self.encoder_q
        if hasattr(enc, 'features'):
            feat = enc.features(x)
        else:  # torchvision layout
            feat = enc.avgpool(enc.layer4(enc.layer3(enc.layer2(enc.layer1(
                enc.maxpool(enc.relu(enc.bn1(enc.conv1(x))))))))).flatten(1)
        return self.linear(feat)


def save_paco(moco, path):
    # DDP-wrapped when saved: every key starts with 'module.'
    state = {'module.' + k: v for k, v in moco.state_dict().items()}
    torch.save(dict(epoch=400, arch='resnet32', state_dict=state), path)


def linear_head(num_classes, channels):
    def edit(cfg):
        cfg.head = dict(type='LinearClsHead', num_classes=num_classes,
                        in_channels=channels)
    return edit


def test_paco_cifar_resnet32_teacher(tmp_path):
    torch.manual_seed(0)
    public = randomize_bn(MoCo(ResNetS(num_classes=32), 64, 10)).eval()
    save_paco(public, tmp_path / 'paco.pth.tar')
    paco = script('paco_to_mmlt')
    paco.main([str(tmp_path / 'paco.pth.tar'), str(tmp_path / 'r32.pth')])
    config = 'deit_lt/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py'
    model = build(config, 'mmpretrain', linear_head(10, 64))
    ckpt = load_checkpoint(model, str(tmp_path / 'r32.pth'), strict=True)
    assert 'CifarResNet depth 32' in ckpt['meta']['model']
    # option A became a fixed 1x1 conv: one 1 per input channel
    ds = model.backbone.layer2[0].downsample[0].weight
    assert ds.shape == (32, 16, 1, 1) and ds.sum() == 16
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), public(x))
    # ... and as the teacher of a DeiT-LT student
    from mmpretrain.registry import MODELS
    student = MODELS.build(dict(
        type='DeiTLTClassifier',
        backbone=dict(type='DistilledVisionTransformer', img_size=32,
                      patch_size=8, arch=dict(
                          embed_dims=16, num_layers=1, num_heads=2,
                          feedforward_channels=32)),
        head=dict(type='DeiTLTClsHead', num_classes=10, in_channels=16),
        teacher=dict(config=model_cfg(config, linear_head(10, 64)),
                     checkpoint=str(tmp_path / 'r32.pth'))))
    student.load_teacher()
    with torch.no_grad():
        torch.testing.assert_close(student.teacher(x, mode='tensor'),
                                   public(x))
    with pytest.raises(ConversionError, match='not a PaCo'):
        paco.convert({k: v for k, v in public.state_dict().items()
                      if not k.startswith('linear.')})
    state = {k: v for k, v in public.state_dict().items()
             if k != 'encoder_q.layer3.4.bn2.running_var'}
    with pytest.raises(ConversionError,
                       match=r'missing keys: encoder_q\.layer3\.4\.bn2\.'
                       'running_var'):
        paco.convert(state)


def test_paco_imagenet_resnet50_teacher(tmp_path):
    from torchvision.models import resnet50  # PaCo's resnet_imagenet layout
    torch.manual_seed(0)
    # GPaCo's builder: no key encoder
    public = randomize_bn(MoCo(resnet50(num_classes=128), 2048, 7,
                               dim=128, key_encoder=False)).eval()
    save_paco(public, tmp_path / 'paco.pth.tar')
    script('paco_to_mmlt').main(
        [str(tmp_path / 'paco.pth.tar'), str(tmp_path / 'r50.pth')])
    model = build('deit_lt/resnet50_ldam-drw-sam_8xb32-90e_imagenet-lt.py',
                  'mmpretrain', linear_head(7, 2048))
    ckpt = load_checkpoint(model, str(tmp_path / 'r50.pth'), strict=True)
    assert 'ResNet-50' in ckpt['meta']['model']
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), public(x))


# ---- DisAlign classification: cvpods ResNeXt --------------------------------
class CvConv(nn.Conv2d):
    """cvpods.layers.Conv2d: a conv that owns its ``norm``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, bias=False, **kwargs)
        self.norm = nn.BatchNorm2d(self.out_channels)

    def forward(self, x):
        return self.norm(super().forward(x))


class CvBottleneck(nn.Module):

    def __init__(self, inp, out, mid, stride, groups):
        super().__init__()
        self.shortcut = CvConv(inp, out, 1, stride) if inp != out else None
        self.conv1 = CvConv(inp, mid, 1)
        self.conv2 = CvConv(mid, mid, 3, stride, 1, groups=groups)
        self.conv3 = CvConv(mid, out, 1)

    def forward(self, x):
        y = self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class CvDisAlignLinear(nn.Linear):
    """DisAlign's cvpods ``DisAlignLinear`` (paper eq. 6 form)."""

    def __init__(self, inp, out):
        super().__init__(inp, out)
        self.confidence_layer = nn.Linear(inp, 1)
        self.logit_scale = nn.Parameter(torch.ones(1, out))
        self.logit_bias = nn.Parameter(torch.zeros(1, out))

    def forward(self, x):
        z = super().forward(x)
        conf = self.confidence_layer(x).sigmoid()
        return (1 + conf * self.logit_scale) * z + conf * self.logit_bias


class CvResNeXt(nn.Module):
    """cvpods ``ResNet`` with ``NUM_GROUPS`` x ``WIDTH_PER_GROUP``,
    ``STRIDE_IN_1X1=False``, ``OUT_FEATURES=['linear']``; small widths."""

    def __init__(self, classes, stem=8, res2=32, groups=2, width=4,
                 depths=(3, 4, 6, 3), disalign=False):
        super().__init__()
        self.stem = nn.Module()
        self.stem.conv1 = CvConv(3, stem, 7, 2, 3)
        inp, out, mid = stem, res2, groups * width
        for i, n in enumerate(depths):
            self.add_module(f'res{i + 2}', nn.Sequential(*[
                CvBottleneck(inp if b == 0 else out, out, mid,
                             2 if b == 0 and i > 0 else 1, groups)
                for b in range(n)]))
            inp, out, mid = out, out * 2, mid * 2
        self.linear = (CvDisAlignLinear if disalign else nn.Linear)(inp,
                                                                   classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem.conv1(x)), 3, 2, 1)
        for i in range(2, 6):
            x = getattr(self, f'res{i}')(x)
        return self.linear(x.mean((2, 3)))


class Classification(nn.Module):
    """cvpods' meta arch: ``network`` + (stage 2) the G-RW loss, a
    ``_WeightedLoss`` whose class weights are a buffer."""

    def __init__(self, network, grw=False):
        super().__init__()
        self.network = network
        if grw:
            self.loss_evaluator = nn.CrossEntropyLoss(
                weight=torch.rand(network.linear.out_features))


def resnext_target(stage2):
    def edit(cfg):
        cfg.backbone.update(stem_channels=8, base_channels=8, groups=2,
                            width_per_group=4)
        cfg.head.update(num_classes=5, in_channels=256)
        cfg.head.loss = dict(type='CrossEntropyLoss')  # no frequency file
    return edit


@pytest.mark.parametrize('stage2', [False, True])
def test_disalign_cvpods_resnext(tmp_path, stage2):
    torch.manual_seed(0)
    net = randomize_bn(CvResNeXt(5, disalign=stage2))
    if stage2:  # a trained calibration, far from the init
        cal = net.linear
        cal.logit_scale.data.normal_(0, 0.5)
        cal.logit_bias.data.normal_(0, 0.5)
        cal.confidence_layer.weight.data.normal_(0, 0.2)
    public = Classification(net, grw=stage2).eval()
    torch.save(dict(model=public.state_dict(), iteration=4520),
               tmp_path / 'model_final.pth')
    converter = script('disalign_cvpods_to_mmlt')
    converter.main([str(tmp_path / 'model_final.pth'),
                    str(tmp_path / 'out.pth')])
    config = ('resnext50-32x4d_disalign_8xb32-10e_imagenet-lt.py' if stage2
              else 'resnext50-32x4d_8xb32-90e_imagenet-lt.py')
    model = build('imagenet_lt/' + config, 'mmpretrain',
                  resnext_target(stage2))
    ckpt = load_checkpoint(model, str(tmp_path / 'out.pth'), strict=True)
    assert ckpt['meta']['config'] == 'configs/imagenet_lt/' + config
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), net(x))
    if stage2:
        torch.testing.assert_close(model.head.fc.calibration.magnitude.data,
                                   1 + net.linear.logit_scale.data[0])
        state = {k: v for k, v in public.state_dict().items()
                 if k != 'network.linear.logit_bias'}
        with pytest.raises(ConversionError,
                           match='missing keys: network.linear.logit_bias'):
            converter.convert(state)


# ---- DisAlign segmentation: mmseg 0.x DisAlignFCNHead -----------------------
class ConvModule(nn.Module):
    """mmcv 1.x ConvModule with a norm: conv (no bias), bn, ReLU."""

    def __init__(self, inp, out, k):
        super().__init__()
        self.conv = nn.Conv2d(inp, out, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(out)

    def pre_act(self, x):
        return self.bn(self.conv(x))

    def forward(self, x):
        return F.relu(self.pre_act(x))


class PublicDisAlignFCNHead(nn.Module):
    """DisAlign's semantic_seg/.../fcn_head_disalign.py (num_convs=2,
    concat_input=True), in eval mode."""

    def __init__(self, inp, ch, classes):
        super().__init__()
        self.convs = nn.Sequential(ConvModule(inp, ch, 3),
                                   ConvModule(ch, ch, 3))
        self.conv_cat = ConvModule(inp + ch, ch, 3)
        self.conv_seg = nn.Conv2d(ch, classes, 1)
        self.logit_scale = nn.Parameter(torch.ones(1, classes, 1, 1))
        self.logit_bias = nn.Parameter(torch.zeros(1, classes, 1, 1))
        self.confidence_layer = ConvModule(ch, 1, 1)

    def forward(self, x, relu=True):
        out = self.conv_cat(torch.cat([x, self.convs(x)], 1))
        pre = self.confidence_layer.pre_act(out)
        conf = (F.relu(pre) if relu else pre).sigmoid()
        z = self.conv_seg(out)
        return conf * (z * self.logit_scale + self.logit_bias) \
            + (1 - conf) * z, pre


def fcn_target(cfg):
    bn = dict(type='BN', requires_grad=True)
    cfg.backbone.update(depth=18, stem_channels=16, base_channels=16,
                        norm_cfg=bn)
    cfg.decode_head.update(in_channels=128, channels=32, num_classes=6,
                           norm_cfg=bn)
    cfg.decode_head.loss_decode = dict(type='CrossEntropyLoss')


def test_disalign_mmseg_fcn(tmp_path):
    model = build('ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py',
                  'mmseg', fcn_target)
    # mmseg 0.x and 1.x share the ResNetV1c keys: the stock one stands in,
    # with other weights than the model's
    torch.manual_seed(1)
    backbone = copy.deepcopy(model.backbone)
    for m in backbone.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
    randomize_bn(backbone, seed=1)
    head = randomize_bn(PublicDisAlignFCNHead(128, 32, 6), seed=2).eval()
    head.logit_scale.data.normal_(1, 0.5)
    head.logit_bias.data.normal_(0, 0.5)
    head.confidence_layer.bn.bias.data.zero_()
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state.update({f'decode_head.{k}': v for k, v in head.state_dict().items()})
    state['auxiliary_head.conv_seg.weight'] = torch.randn(6, 16, 1, 1)
    torch.save(dict(state_dict=state, meta=dict(
        CLASSES=[f'c{i}' for i in range(6)], PALETTE=[[i, i, i] for i in range(6)])),
        tmp_path / 'iter_4000.pth')
    converter = script('disalign_mmseg0x_to_mmlt')
    converter.main([str(tmp_path / 'iter_4000.pth'),
                    str(tmp_path / 'out.pth')])
    ckpt = load_checkpoint(model, str(tmp_path / 'out.pth'), strict=True)
    assert ckpt['meta']['dataset_meta']['classes'] == tuple(
        f'c{i}' for i in range(6))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(x))
        feat = backbone(x)[3]
        ref, pre = head(feat)
        ref_no_relu, _ = head(feat, relu=False)
    # BN folded exactly: equal to the public head without its ReLU ...
    torch.testing.assert_close(logits, ref_no_relu)
    # ... hence to the public head where the ReLU is the identity, and not
    # where it clamps sigma to 0.5 ...
    keep = (pre >= 0).expand_as(ref)
    assert keep.any() and (~keep).any()
    torch.testing.assert_close(logits[keep], ref[keep])
    assert not torch.allclose(logits[~keep], ref[~keep])
    # ... and everywhere with the opt-in confidence_relu of the converter's
    # note (the config option a user passes to tools/test.py)
    relu_model = build(
        'ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py', 'mmseg',
        lambda cfg: (fcn_target(cfg),
                     cfg.decode_head.update(confidence_relu=True)))
    load_checkpoint(relu_model, str(tmp_path / 'out.pth'), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(
            relu_model.decode_head(relu_model.extract_feat(x)), ref)
    assert 'confidence_relu=True' in ckpt['meta']['confidence_relu']
    # --keep-auxiliary-head keeps it; missing calibration keys are named
    out = converter.convert(state, keep_auxiliary_head=True)
    assert 'auxiliary_head.conv_seg.weight' in out
    del state['decode_head.logit_bias']
    with pytest.raises(ConversionError,
                       match='missing keys: decode_head.logit_bias'):
        converter.convert(state)
