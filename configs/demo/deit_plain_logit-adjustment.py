# DeiT-LT demo: post-hoc logit adjustment of the plain DeiT (deit_plain.py),
# the simple baseline the DIST head's tail is compared with. Nothing to
# train; tau on val with tools/analysis/choose_tau.py, then test once.
_base_ = ['./deit_plain.py']

runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='LogitAdjustedVisionTransformerClsHead',
        # training images per class (../_base_/datasets/lt_digits_cls.py)
        frequency_file={{_base_.frequency_file}},
        tau=1.0))
