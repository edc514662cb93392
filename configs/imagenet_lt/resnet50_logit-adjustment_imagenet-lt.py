# Post-hoc logit adjustment (Menon et al., ICLR 2021) of the ImageNet-LT
# ResNet-50 stage 1: z - tau * log(prior). Nothing to train; choose tau on
# ImageNet-LT val, then test once:
#   python tools/analysis/choose_tau.py \
#       configs/imagenet_lt/resnet50_logit-adjustment_imagenet-lt.py STAGE1.pth
#   python tools/test.py \
#       configs/imagenet_lt/resnet50_logit-adjustment_imagenet-lt.py \
#       STAGE1.pth --cfg-options model.head.tau=T
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='LogitAdjustedLinearClsHead',
        frequency_file=_base_.frequency_file,
        tau=1.0))
