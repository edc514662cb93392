# Stage 1 of the cosine variant with ResNeXt-50 (32x4d).
_base_ = ['./resnext50-32x4d_8xb32-90e_imagenet-lt.py']

model = dict(head=dict(type='CosineLinearClsHead', scale=20.0))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'head.fc.scale': dict(decay_mult=0.0)}))
