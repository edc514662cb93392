# LT-Digits classification, post-hoc tau-normalisation (Kang et al., ICLR
# 2020) of the stage-1 classifier: W_j / ||W_j||^tau, no bias. Choose tau
# on val with tools/analysis/choose_tau.py (cls_logit-adjustment.py).
_base_ = ['./cls_stage1.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/cls_stage1'
runner_type = 'DisAlignRunner'
model = dict(head=dict(type='TauNormLinearClsHead', tau=1.0))
