# DisAlign* (cosine) stage 2 on ImageNet-LT, ResNeXt-50 (32x4d), rho 1.5;
# stage 1: resnext50-32x4d-cos_8xb32-90e_imagenet-lt.py.
_base_ = ['./resnext50-32x4d_disalign_8xb32-10e_imagenet-lt.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnext50-32x4d-cos_8xb32-90e_imagenet-lt'
rho = 1.5
model = dict(
    head=dict(type='DisAlignCosineLinearClsHead', scale=20.0,
              loss=dict(rho=rho)))
