# cls_logit-adjustment.py on the cosine stage 1 (cls_stage1_cosine.py).
_base_ = ['./cls_stage1_cosine.py']

runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='LogitAdjustedCosineLinearClsHead',
        frequency_file={{_base_.frequency_file}},
        tau=1.0))
