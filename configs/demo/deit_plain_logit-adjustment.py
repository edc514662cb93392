# DeiT-LT demo: post-hoc logit adjustment of the plain DeiT (deit_plain.py),
# the simple baseline the DIST head's tail is compared with. Nothing to
# train; tau on val with tools/analysis/choose_tau.py, then test once.
_base_ = ['./deit_plain.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/deit_plain'
runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='LogitAdjustedVisionTransformerClsHead',
        # training images per class (../_base_/datasets/lt_digits_cls.py)
        frequency_file={{_base_.frequency_file}},
        tau=1.0))
