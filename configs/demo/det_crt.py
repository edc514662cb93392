# LT-Digits detection, cRT: det_stage2_paper.py's frozen model and schedule with a
# re-initialised RoI classifier (background row included) trained alone
# with the stock cross-entropy and mmdet's class-aware sampling (a category
# uniformly, then an image that holds it).
_base_ = ['./det_stage2_paper.py']

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(_delete_=True, type='RetrainedLinear'),
            loss_cls=dict(
                _delete_=True,
                type='CrossEntropyLoss',
                use_sigmoid=False,
                loss_weight=1.0))))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassAwareSampler',
                 num_sample_class=1))
