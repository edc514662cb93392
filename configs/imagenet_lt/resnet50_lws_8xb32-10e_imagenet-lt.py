# LWS (Kang et al., ICLR 2020) on ImageNet-LT, ResNet-50: cRT's schedule
# and sampling with the stage-1 classifier kept and one learnt scale per
# class. Published: ResNet-50 47.7 (DisAlign paper), ResNeXt-50 49.9.
# Stage 1 and `load_from` (its work dir): those of
# resnet50_disalign_8xb32-10e_imagenet-lt.py.
_base_ = ['./resnet50_crt_8xb32-10e_imagenet-lt.py']

model = dict(head=dict(type='LWSLinearClsHead'))
