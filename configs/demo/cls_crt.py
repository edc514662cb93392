# LT-Digits classification, cRT (Kang et al., ICLR 2020): the stage 2 of
# cls_stage2_paper.py (the frozen stage-1 network, the same schedule) with a
# re-initialised linear classifier trained alone, plain cross-entropy and
# class-balanced sampling (a class uniformly, then one of its images).
_base_ = ['./cls_stage2_paper.py']

model = dict(
    head=dict(
        type='RetrainedLinearClsHead',
        loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler'))
