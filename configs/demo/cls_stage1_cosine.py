# LT-Digits classification, stage 1 of the cosine variant ("DisAlign*"):
# cls_stage1.py with a cosine classifier (L2-normalised feature and weights,
# learnable scale from 20, no bias).
_base_ = ['./cls_stage1.py']

model = dict(head=dict(type='CosineLinearClsHead', scale=20.0))
# weight decay would shrink the scale, i.e. the softmax temperature
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'head.fc.scale': dict(decay_mult=0.0)}))
