# cRT (Kang et al., ICLR 2020) on ImageNet-LT, ResNet-50: the stage-1 model
# frozen, a re-initialised linear classifier trained alone with plain
# cross-entropy and class-balanced sampling; DisAlign's stage-2 schedule
# (10 epochs, lr 0.1 cosine, batch 256; the paper: 10 epochs).
# Published: ResNet-50 47.3 (DisAlign paper), ResNeXt-50 49.6.
# Stage 1 and `load_from` (its work dir): those of
# resnet50_disalign_8xb32-10e_imagenet-lt.py.
_base_ = ['./resnet50_disalign_8xb32-10e_imagenet-lt.py']

model = dict(
    head=dict(
        type='RetrainedLinearClsHead',
        loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler'))
