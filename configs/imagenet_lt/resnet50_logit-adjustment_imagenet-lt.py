# Post-hoc logit adjustment (Menon et al., ICLR 2021) of the ImageNet-LT
# ResNet-50 stage 1: z - tau * log(prior). Nothing to train; choose tau on
# ImageNet-LT val, then test once, on the stage-1 run's work dir (its latest
# checkpoint) or a checkpoint file (STAGE1.pth):
#   python tools/analysis/choose_tau.py \
#       configs/imagenet_lt/resnet50_logit-adjustment_imagenet-lt.py \
#       work_dirs/resnet50_8xb32-90e_imagenet-lt
#   python tools/test.py \
#       configs/imagenet_lt/resnet50_logit-adjustment_imagenet-lt.py \
#       work_dirs/resnet50_8xb32-90e_imagenet-lt --cfg-options model.head.tau=T
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnet50_8xb32-90e_imagenet-lt'
tau = 1.0  # Menon et al.'s default; choose it on val (choose_tau.py)
# ======================= Unmodified in most cases ===========================

runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='LogitAdjustedLinearClsHead',
        frequency_file=_base_.frequency_file,
        tau=tau))
