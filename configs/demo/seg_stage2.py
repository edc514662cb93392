# LT-Digits segmentation, DisAlign stage 2, mmlt's recipe (as for
# classification, docs/en/disalign.md): the paper's stage 2
# (seg_stage2_paper.py) with the margins starting at the logit adjustment's
# offsets, -log(prior) of the pixel counts (start_tau=1), and the balanced
# target applied once, by the G-RW weights (rho 1: pixels cannot be sampled
# by class). Both follow from the counts; neither was tuned on val.
# Stage 1 and `load_from` (its work dir) as seg_stage2_paper.py.
_base_ = ['./seg_stage2_paper.py']

rho = 1.0
model = dict(decode_head=dict(start_tau=1.0, loss_decode=dict(rho=rho)))
