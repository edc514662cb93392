# LT-Digits classification, post-hoc tau-normalisation (Kang et al., ICLR
# 2020) of the stage-1 classifier: W_j / ||W_j||^tau, no bias. Choose tau
# on val with tools/analysis/choose_tau.py (cls_logit-adjustment.py).
_base_ = ['./cls_stage1.py']

runner_type = 'DisAlignRunner'
model = dict(head=dict(type='TauNormLinearClsHead', tau=1.0))
