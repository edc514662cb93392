# Post-hoc tau-normalisation (Kang et al., ICLR 2020) of the ImageNet-LT
# ResNet-50 stage-1 classifier (ResNeXt-50 published: 49.4 top-1). Choose
# tau on val with tools/analysis/choose_tau.py, then test once.
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

runner_type = 'DisAlignRunner'
model = dict(head=dict(type='TauNormLinearClsHead', tau=1.0))
