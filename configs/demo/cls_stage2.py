# LT-Digits classification, DisAlign stage 2, mmlt's recipe: the paper's
# stage 2 (cls_stage2_paper.py: the stage-1 network frozen, its fc kept and
# calibrated by per-class magnitude and margin blended by a per-image
# confidence) with three changes, each following from the training counts
# rather than tuned (why and the protocol that chose it on val:
# docs/en/disalign.md, docs/en/results.md):
#   - the margins start at the logit adjustment's offsets, -log(prior)
#     (start_tau=1): the optimum of a balanced target for a calibrated stage
#     1, so stage 2 starts where post-hoc logit adjustment ends and learns
#     the rest;
#   - the balanced target is applied once, by the sampler: class-balanced
#     sampling (a class uniformly, then one of its images) and rho 0 in the
#     G-RW loss (re-weighting on top over-corrects: the many-shot group
#     collapsed on 2 of 6 sets of the protocol);
#   - nothing else changes: schedule, learning rate, no weight decay.
# Stage 1 and `load_from` (its work dir) as cls_stage2_paper.py:
#   python tools/train.py configs/demo/cls_stage1.py
#   python tools/train.py configs/demo/cls_stage2.py
_base_ = ['./cls_stage2_paper.py']

rho = 0.0
model = dict(head=dict(start_tau=1.0, loss=dict(rho=rho)))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler'))
