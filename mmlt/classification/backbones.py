"""The CIFAR ResNets of long-tailed recognition (ResNet-32 and kin).

He et al.'s 6n+2 CIFAR networks: a 3x3 stem of 16 channels, then three
stages of ``n`` basic blocks with 16, 32 and 64 channels (strides 1, 2, 2),
global pooling, a 64-d feature. ResNet-32 (n = 5) is the CIFAR-LT backbone
of LDAM-DRW, DisAlign-style calibration papers and DeiT-LT's teacher.
mmpretrain's ``ResNet_CIFAR`` only has the ImageNet depths (18-152), so this
subclass adds the 6n+2 ones and their defaults.

One difference from LDAM's code: where the width doubles, the shortcut is
mmpretrain's 1x1 convolution + BN (He et al.'s option B), not LDAM's
zero-padded identity (option A); ResNet-32 has 0.47M instead of 0.46M
parameters.
"""
from mmpretrain.models.backbones import ResNet_CIFAR
from mmpretrain.models.backbones.resnet import BasicBlock
from mmpretrain.registry import MODELS


@MODELS.register_module()
class CifarResNet(ResNet_CIFAR):
    """6n+2-layer CIFAR ResNet: ``depth`` in 8, 14, 20, 32, 44, 56, 110, ...

    Args:
        depth: 6n + 2 for n >= 1 (ResNet-32: 32).
        stem_channels, base_channels: 16 (the width of the first stage).
        num_stages: 3; ``strides`` (1, 2, 2), ``dilations`` (1, 1, 1),
            ``out_indices`` (2, ): the last stage's 64-channel map.
        **kwargs: the rest of ``ResNet_CIFAR``'s arguments.
    """
    arch_settings = {6 * n + 2: (BasicBlock, (n, n, n)) for n in range(1, 19)}

    def __init__(self,
                 depth: int = 32,
                 stem_channels: int = 16,
                 base_channels: int = 16,
                 num_stages: int = 3,
                 strides=(1, 2, 2),
                 dilations=(1, 1, 1),
                 out_indices=(2, ),
                 **kwargs):
        if depth not in self.arch_settings:
            raise KeyError(f'CifarResNet: depth must be 6n + 2 (8, 14, 20, '
                           f'32, 44, 56, 110), got {depth}.')
        super().__init__(
            depth,
            stem_channels=stem_channels,
            base_channels=base_channels,
            num_stages=num_stages,
            strides=strides,
            dilations=dilations,
            out_indices=out_indices,
            **kwargs)
