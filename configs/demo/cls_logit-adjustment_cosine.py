# cls_logit-adjustment.py on the cosine stage 1 (cls_stage1_cosine.py).
_base_ = ['./cls_stage1_cosine.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/cls_stage1_cosine'
runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='LogitAdjustedCosineLinearClsHead',
        frequency_file={{_base_.frequency_file}},
        tau=1.0))
