# DisAlign stage 2 on ImageNet-LT, ResNeXt-50 (32x4d), dot-product head,
# rho 1.2, 10 epochs; stage 1: resnext50-32x4d_8xb32-90e_imagenet-lt.py.
_base_ = ['./resnet50_disalign_8xb32-10e_imagenet-lt.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnext50-32x4d_8xb32-90e_imagenet-lt'
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
