# DisAlign* (cosine) stage 2 on ImageNet-LT, ResNet-50: the cosine stage-1
# model frozen (its scale too), calibrated with G-RW rho 1.5 (the paper's
# cosine value); schedule as the dot-product stage 2.
# Paper: 52.9 top-1 (many 61.3 / medium 52.2 / few 31.4).
#   bash tools/dist_train.sh \
#       configs/imagenet_lt/resnet50-cos_8xb32-90e_imagenet-lt.py 8
#   bash tools/dist_train.sh \
#       configs/imagenet_lt/resnet50-cos_disalign_8xb32-10e_imagenet-lt.py 8
_base_ = ['./resnet50_disalign_8xb32-10e_imagenet-lt.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnet50-cos_8xb32-90e_imagenet-lt'
rho = 1.5
model = dict(
    head=dict(type='DisAlignCosineLinearClsHead', scale=20.0,
              loss=dict(rho=rho)))
