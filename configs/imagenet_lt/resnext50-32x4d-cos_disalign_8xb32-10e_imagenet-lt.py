# DisAlign* (cosine) stage 2 on ImageNet-LT, ResNeXt-50 (32x4d), rho 1.5.
_base_ = ['./resnext50-32x4d_disalign_8xb32-10e_imagenet-lt.py']

load_from = 'work_dirs/resnext50-32x4d-cos_8xb32-90e_imagenet-lt/epoch_90.pth'
model = dict(
    head=dict(type='DisAlignCosineLinearClsHead', scale=20.0,
              loss=dict(rho=1.5)))
