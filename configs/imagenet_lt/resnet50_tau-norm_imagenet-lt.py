# Post-hoc tau-normalisation (Kang et al., ICLR 2020) of the ImageNet-LT
# ResNet-50 stage-1 classifier (ResNeXt-50 published: 49.4 top-1). Choose
# tau on val with tools/analysis/choose_tau.py, then test once, as for
# resnet50_logit-adjustment_imagenet-lt.py.
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnet50_8xb32-90e_imagenet-lt'
tau = 1.0  # 1: full normalisation; choose it on val (choose_tau.py)
# ======================= Unmodified in most cases ===========================

runner_type = 'DisAlignRunner'
model = dict(head=dict(type='TauNormLinearClsHead', tau=tau))
