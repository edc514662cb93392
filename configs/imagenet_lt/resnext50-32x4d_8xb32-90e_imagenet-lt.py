# DisAlign stage 1 on ImageNet-LT with ResNeXt-50 (32x4d); schedule as the
# ResNet-50 one (90 epochs, batch 256, lr 0.1 cosine, wd 5e-4).
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNeXt',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        groups=32,
        width_per_group=4,
        style='pytorch'))
